"""/api/v1/ (outside the language prefixes: every text comes in both languages) and its documentation page."""

from django.urls import path, re_path

from . import docs, schema, views
from .routes import v1_patterns

app_name = "api"

urlpatterns = [
    *v1_patterns,
    path("api/v1/schema/", schema.SchemaView.as_view(), name="schema"),
    # Any other address under /api/ (a slug with characters a slug cannot have, a typo) answers JSON too.
    re_path(r"^api/", views.not_found, name="not_found"),
]

# Under /ar/ and /en/ (hukoomi_portal/urls.py puts them in i18n_patterns).
docs_patterns = [path("api/", docs.api_docs, name="docs")]
