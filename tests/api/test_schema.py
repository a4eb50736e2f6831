"""/api/v1/ is frozen: the schema the code generates is the committed docs/api/openapi-v1.yaml, byte for byte.

A change to a view or serializer that changes the schema fails here until the file is rewritten on purpose
(`python manage.py api_schema`), and a change that would break a client belongs in /api/v2/.
"""

import json

import pytest
import yaml

from api.schema import COMMITTED, schema_yaml

pytestmark = pytest.mark.django_db


def test_the_generated_schema_is_the_committed_one():
    assert schema_yaml() == COMMITTED.read_text(encoding="utf-8"), "the API schema changed: python manage.py api_schema"


@pytest.mark.parametrize("accept_language", ["ar", "en"])
def test_the_served_schema_is_the_committed_one_in_yaml_and_json(client, accept_language):
    committed = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    response = client.get("/api/v1/schema/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content) == committed
    response = client.get("/api/v1/schema/?format=json", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert json.loads(response.content) == committed


def test_the_schema_is_openapi_3_with_version_1_and_only_reads():
    schema = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert {method for operations in schema["paths"].values() for method in operations} == {"get"}
