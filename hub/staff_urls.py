"""The cycle at a glance for KITECH staff, under /staff/cycle/."""

from django.urls import path

from . import cycle_views

app_name = "staff_cycle"

urlpatterns = [
    path("", cycle_views.dashboard, name="dashboard"),
    path("export.csv", cycle_views.export, name="export"),
]
