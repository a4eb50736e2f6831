"""The v1 API's routes, apart from urls.py so that the schema (schema.py) can list them without importing urls.py,
which imports the schema's view."""

from django.urls import path

from . import views

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
