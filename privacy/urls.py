"""Data protection pages under /staff/privacy/: KITECH staff only (every view checks it)."""

from django.urls import path

from . import mentor_views, views

app_name = "staff_privacy"

urlpatterns = [
    path("", views.search, name="search"),
    path("nominations/<int:pk>/", views.person, name="person"),
    path("nominations/<int:pk>/export.json", views.person_export, name="person_export"),
    path("nominations/<int:pk>/erase/", views.person_erase, name="person_erase"),
    path("retention/", views.retention, name="retention"),
    path("retention/apply/", views.retention_apply, name="retention_apply"),
    path("mentors/", mentor_views.search, name="mentor_search"),
    path("mentors/<int:pk>/", mentor_views.mentor, name="mentor"),
    path("mentors/<int:pk>/export.json", mentor_views.mentor_export, name="mentor_export"),
    path("mentors/<int:pk>/erase/", mentor_views.mentor_erase, name="mentor_erase"),
]
