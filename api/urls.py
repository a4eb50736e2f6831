"""/api/v1/ (outside the language prefixes: every text comes in both languages) and its documentation page."""

from django.urls import path, re_path

from . import docs, schema, views

app_name = "api"

v1_patterns = [
    path("api/v1/entities/", views.EntityList.as_view(), name="entities"),
    path("api/v1/entities/<slug:slug>/", views.EntityDetail.as_view(), name="entity"),
    path("api/v1/items/", views.ItemList.as_view(), name="items"),
    path("api/v1/items/<slug:slug>/", views.ItemDetail.as_view(), name="item"),
    path("api/v1/items/<slug:slug>/results/", views.ItemResults.as_view(), name="item_results"),
    path("api/v1/items/<slug:slug>/receipts/", views.ItemReceipts.as_view(), name="item_receipts"),
    path("api/v1/items/<slug:slug>/outcome/", views.ItemOutcome.as_view(), name="item_outcome"),
    path("api/v1/outcomes/", views.OutcomeList.as_view(), name="outcomes"),
    path("api/v1/audit/checkpoint/", views.AuditCheckpoint.as_view(), name="audit_checkpoint"),
]

urlpatterns = [
    *v1_patterns,
    path("api/v1/schema/", schema.SchemaView.as_view(), name="schema"),
    # Any other address under /api/ (a slug with characters a slug cannot have, a typo) answers JSON too.
    re_path(r"^api/", views.not_found, name="not_found"),
]

# Under /ar/ and /en/ (hukoomi_portal/urls.py puts them in i18n_patterns).
docs_patterns = [path("api/", docs.api_docs, name="docs")]
