"""Mentor-facing pages under /mentoring/: the emailed invitation link and the mentor's page."""

from django.urls import path

from . import views

app_name = "mentors"

urlpatterns = [
    path("", views.mentor_home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("assignments/<int:pk>/answer/", views.assignment_answer, name="assignment_answer"),
    path("assignments/<int:pk>/log/", views.activity_new, name="activity_new"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
