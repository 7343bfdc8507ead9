"""Staff pages for students after admission, under /staff/students/."""

from django.urls import path

from . import progress_views

app_name = "students"

urlpatterns = [
    path("", progress_views.student_list, name="list"),
    path("<int:pk>/", progress_views.student_detail, name="detail"),
    path("<int:pk>/request-update/", progress_views.outcome_request_update,
         name="request_update"),
]
