"""schemathesis against our own schema, on the seeded world: no 5xx, and every answer conforms to the schema.

In-process through Django's WSGI application (same database connection as the test), with bounded,
derandomized examples so that the run is deterministic and takes seconds. The schema is the one the
portal serves at /api/v1/schema/ (test_schema.py checks it is the committed one). The rate limit is
raised and the answer cache switched off for this test only: both are tested in test_throttle_and_cache.py.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def unthrottled(settings):
    """No rate limit or answer cache, and the test's database connection kept open across requests.

    Django's WSGI handler closes the connection at the start and end of every request; Django's test client
    switches that off during its requests, and so must we while schemathesis calls the WSGI application
    inside the test's transaction (PostgreSQL would otherwise lose the seeded world mid-test).
    """
    settings.PORTAL_API_RATE = "100000/minute"
    settings.PORTAL_API_CACHE_SECONDS = 0
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_conforms_and_none_is_a_server_error(case, world, unthrottled):
    case.call_and_validate()


def test_every_seeded_item_answers_as_the_schema_says_through_every_item_endpoint(world, unthrottled):
    """Random slugs rarely hit a real item: here every item of the world (drafts included) through every
    item endpoint, so that each kind of answer (counted, live, counting, hidden cells, outcomes) is checked."""
    from participation.models import Item

    operations = [
        schema[path]["GET"] for path in schema.raw_schema["paths"] if path.startswith("/api/v1/items/{slug}/")
    ]
    assert len(operations) == 4
    for slug in Item.objects.values_list("slug", flat=True):
        for operation in operations:
            operation.Case(path_parameters={"slug": slug}).call_and_validate()
    for slug in ("health", "transport"):
        schema["/api/v1/entities/{slug}/"]["GET"].Case(path_parameters={"slug": slug}).call_and_validate()
