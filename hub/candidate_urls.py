"""The candidate's own page under /candidate/, reached by the signed link emailed to them."""

from django.urls import path

from . import candidate_views

app_name = "candidate"

urlpatterns = [
    path("<str:token>/", candidate_views.page, name="page"),
]
