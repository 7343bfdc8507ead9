"""The candidate's own page under /candidate/, reached by the signed link emailed to them, and
the public page that emails that link again."""

from django.urls import path

from . import candidate_views

app_name = "candidate"

urlpatterns = [
    path("", candidate_views.link_request, name="link_request"),
    path("email/<str:token>/", candidate_views.email_confirm, name="email_confirm"),
    path("<str:token>/", candidate_views.page, name="page"),
    path("<str:token>/documents/<int:document_id>/", candidate_views.document_download,
         name="document"),
    path("<str:token>/withdraw/", candidate_views.withdraw, name="withdraw"),
    path("<str:token>/offer/<int:offer_id>/<str:answer>/", candidate_views.offer_answer,
         name="offer_answer"),
]
