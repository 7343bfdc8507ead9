"""Staff pages of the mentors domain under /staff/mentors/: KITECH staff only."""

from django.urls import path

from . import import_views, staff_views

app_name = "staff_mentors"

urlpatterns = [
    path("", staff_views.mentor_list, name="mentor_list"),
    path("import/", import_views.mentor_import, name="import"),
    path("import/template.csv", import_views.mentor_import_template, name="import_template"),
    path("<int:mentor_id>/", staff_views.mentor_detail, name="mentor_detail"),
    path("rounds/<int:round_id>/", staff_views.round_assignments, name="round_assignments"),
    path("rounds/<int:round_id>/mentor-options/", staff_views.mentor_options,
         name="mentor_options"),
    path("rounds/<int:round_id>/propose/", staff_views.assignment_propose,
         name="assignment_propose"),
    path("<int:mentor_id>/confirm/", staff_views.mentor_confirm, name="mentor_confirm"),
    path("assignments/<int:pk>/withdraw/", staff_views.assignment_withdraw,
         name="assignment_withdraw"),
]
