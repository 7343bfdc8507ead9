"""Mentors' data protection pages, to be included at /staff/privacy/mentors/: staff only."""

from django.urls import path

from . import privacy_views

app_name = "mentor_privacy"

urlpatterns = [
    path("", privacy_views.search, name="search"),
    path("<int:pk>/", privacy_views.mentor, name="mentor"),
    path("<int:pk>/export.json", privacy_views.mentor_export, name="mentor_export"),
    path("<int:pk>/erase/", privacy_views.mentor_erase, name="mentor_erase"),
]
