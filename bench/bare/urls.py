from django.urls import path

from . import views

urlpatterns = [
    path("rows/", views.rows, name="rows"),
    path("insert/", views.insert, name="insert"),
]
