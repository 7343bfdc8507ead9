"""The cycle at a glance, under /cycle/: the public summary and the staff dashboard."""

from django.urls import path

from . import cycle_views

app_name = "cycle"

urlpatterns = [
    path("", cycle_views.public, name="public"),
    path("staff/", cycle_views.dashboard, name="dashboard"),
    path("staff/export.csv", cycle_views.export, name="export"),
]
