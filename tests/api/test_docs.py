"""The API's documentation page in both languages, drawn from the schema, and its link in every footer."""

import pytest

from api import docs
from api.schema import openapi_schema

pytestmark = pytest.mark.django_db

HEADINGS = {"ar": "واجهة برمجة البيانات المفتوحة", "en": "Open data API"}


def test_the_page_lists_every_operation_in_the_reader_s_language(client, lang):
    response = client.get(f"/{lang}/api/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"<h1>{HEADINGS[lang]}</h1>" in page
    for path in openapi_schema()["paths"]:
        assert f"GET {path}" in page
    with_texts = docs.operations()
    assert all(str(operation["text"]) in page for operation in with_texts)
    if lang == "ar":
        assert "الجهات الحكومية: الوزارات والهيئات." in page


def test_every_operation_and_parameter_has_its_translated_description():
    schema = openapi_schema()
    operations = [operation for methods in schema["paths"].values() for operation in methods.values()]
    assert {operation["operationId"] for operation in operations} == set(docs.OPERATIONS)
    parameters = {parameter["name"] for operation in operations for parameter in operation.get("parameters", [])}
    assert parameters == set(docs.PARAMETERS)
    codes = {code for operation in operations for code in operation["responses"]}
    assert codes == set(docs.STATUS_TEXT)


def test_every_footer_links_the_api_documentation(client, lang):
    page = client.get(f"/{lang}/").content.decode()
    assert f'href="/{lang}/api/"' in page
