"""The API's documentation page, in Arabic and English, rendered on the server from the OpenAPI schema itself.

No Swagger UI or Redoc: the page works without JavaScript, under the portal's Content-Security-Policy,
and cannot drift from the schema because it is drawn from it. Each operation and parameter has its
translated description here; tests/api/test_docs.py fails when the schema gains one that has none.
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .pagination import PAGE_SIZE
from .schema import openapi_schema

OPERATIONS = {
    "entities_list": _("Government entities: ministries and agencies."),
    "entities_retrieve": _("One government entity."),
    "items_list": _("Consultations, polls and referendums, filtered and a page at a time."),
    "items_retrieve": _("One item: its text, questions or sections, audience and corrections."),
    "items_results_retrieve": _("The results of a poll or referendum, when its page shows them."),
    "items_receipts_list": _("The receipt codes of a referendum, once its results are published."),
    "items_outcome_retrieve": _("The outcome of a closed consultation: what the ministry heard and changed."),
    "outcomes_list": _("The outcomes of every closed consultation, published or not, with their due dates."),
    "audit_checkpoint_retrieve": _("The current checkpoint of the audit trail (COUNT:HASH)."),
}

PARAMETERS = {
    "slug": _("The item's or entity's short name, as in its page address."),
    "cursor": _("The position in the list: copy it from the “next” or “previous” address of the answer."),
    "type": _("poll, referendum or consultation."),
    "state": _("By the clock: scheduled (not open yet), open, or closed (closed or results published)."),
    "entity": _("An entity's short name (slug)."),
    "segment": _("Items that visitors, citizens or residents may take part in."),
    "persona": _("Items open to people who describe themselves so (student, tourist, …)."),
    "q": _("Words in the title, in Arabic or English (up to 100 characters)."),
}

STATUS_TEXT = {
    "200": _("The answer."),
    "400": _("A query parameter was refused; the answer names it."),
    "404": _("Not found: unknown, not public yet, or an invalid cursor."),
    "429": _("Too many requests from your address: wait as many seconds as Retry-After says."),
}


def _type_of(parameter):
    schema = parameter.get("schema", {})
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    return schema.get("type", "string")


def operations():
    """The schema's operations in its own order, with their translated descriptions."""
    found = []
    for path, methods in openapi_schema()["paths"].items():
        for method, operation in methods.items():
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation["operationId"],
                    "text": OPERATIONS.get(operation["operationId"], operation.get("summary", "")),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "where": parameter["in"],
                            "required": parameter.get("required", False),
                            "type": _type_of(parameter),
                            "text": PARAMETERS.get(parameter["name"], parameter.get("description", "")),
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                    "statuses": [(code, STATUS_TEXT.get(code, "")) for code in operation.get("responses", {})],
                }
            )
    return found


def api_docs(request):
    return render(request, "api/docs.html", {"operations": operations(), "page_size": PAGE_SIZE})
