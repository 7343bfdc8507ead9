"""Staff pages for students after admission, under /staff/students/."""

from django.urls import path

from . import views

app_name = "staff_students"

urlpatterns = [
    path("", views.student_list, name="list"),
    path("<int:pk>/", views.student_detail, name="detail"),
    path("<int:pk>/request-update/", views.outcome_request_update,
         name="request_update"),
]
