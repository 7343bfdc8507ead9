"""The public cycle page under /cycle/; the staff's cycle pages moved to /staff/cycle/ and
their old addresses redirect there."""

from django.urls import path
from django.views.generic import RedirectView

from . import cycle_views

app_name = "cycle"

urlpatterns = [
    path("", cycle_views.public, name="public"),
    path("staff/", RedirectView.as_view(pattern_name="staff_cycle:dashboard", permanent=True,
                                        query_string=True)),
    path("staff/export.csv", RedirectView.as_view(pattern_name="staff_cycle:export",
                                                  permanent=True, query_string=True)),
]
