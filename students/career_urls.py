"""Career matching in the staff dashboard, under /staff/careers/: KITECH staff only."""

from django.urls import path

from . import career_views

app_name = "staff_careers"

urlpatterns = [
    path("", career_views.proposal_list, name="proposal_list"),
    path("run/", career_views.run_now, name="run_now"),
    path("proposals/<int:pk>/introduce/", career_views.introduce, name="introduce"),
    path("proposals/<int:pk>/dismiss/", career_views.dismiss, name="dismiss"),
]
