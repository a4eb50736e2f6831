"""schemathesis against our own schema, on the seeded world: no 5xx, and every answer conforms to the schema.

In-process through Django's WSGI application (same database connection as the test), with bounded,
derandomized examples so that the run is deterministic and takes seconds. The schema is the one the
portal serves at /api/v1/schema/ (test_schema.py checks it is the committed one). The rate limit is
raised and the answer cache switched off for this test only: both are tested in test_throttle_and_cache.py.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def unthrottled(settings):
    settings.PORTAL_API_RATE = "100000/minute"
    settings.PORTAL_API_CACHE_SECONDS = 0


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_conforms_and_none_is_a_server_error(case, world, unthrottled):
    case.call_and_validate()
