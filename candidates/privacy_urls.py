"""Data protection pages under /staff/privacy/: KITECH staff only (every view checks it).

The mentors' pages are in mentors.privacy_urls (namespace "mentor_privacy"), included at
/staff/privacy/mentors/; nothing here may start with "mentors/".
"""

from django.urls import path

from . import privacy_views

app_name = "privacy"

urlpatterns = [
    path("", privacy_views.search, name="search"),
    path("nominations/<int:pk>/", privacy_views.person, name="person"),
    path("nominations/<int:pk>/export.json", privacy_views.person_export, name="person_export"),
    path("nominations/<int:pk>/erase/", privacy_views.person_erase, name="person_erase"),
    path("retention/", privacy_views.retention, name="retention"),
    path("retention/apply/", privacy_views.retention_apply, name="retention_apply"),
]
