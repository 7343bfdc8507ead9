"""The alumni's yearly update link under /alumni/."""

from django.urls import path

from . import alumni_views

app_name = "alumni"

urlpatterns = [
    path("update/<str:token>/", alumni_views.alumni_update, name="update"),
]
