"""Staff import of mentors from a CSV file, under /staff/mentors/import/: KITECH staff only."""

from django.urls import path

from . import import_views

app_name = "mentor_import"

urlpatterns = [
    path("", import_views.mentor_import, name="upload"),
    path("template.csv", import_views.mentor_import_template, name="template"),
]
