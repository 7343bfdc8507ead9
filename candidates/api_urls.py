"""The REST API, version 1, under /api/v1/."""

from django.urls import path

from . import apis

app_name = "api"

urlpatterns = [
    path("", apis.ApiRootApi.as_view(), name="root"),
    path("rounds/", apis.RoundListApi.as_view(), name="round_list"),
    path("rounds/<int:pk>/", apis.RoundDetailApi.as_view(), name="round_detail"),
    path("rounds/<int:pk>/tracks/", apis.RoundTrackListApi.as_view(), name="round_tracks"),
    path("nominations/", apis.NominationListApi.as_view(), name="nomination_list"),
    path("nominations/<int:pk>/", apis.NominationDetailApi.as_view(), name="nomination_detail"),
    path("nominations/<int:pk>/submit/", apis.NominationSubmitApi.as_view(),
         name="nomination_submit"),
    path("nominations/<int:pk>/withdraw/", apis.NominationWithdrawApi.as_view(),
         name="nomination_withdraw"),
    path("nominations/<int:pk>/documents/", apis.DocumentListApi.as_view(),
         name="document_list"),
    path("nominations/<int:pk>/documents/<int:document_id>/", apis.DocumentDetailApi.as_view(),
         name="document_detail"),
    path("nominations/<int:pk>/documents/<int:document_id>/download/",
         apis.DocumentDownloadApi.as_view(), name="document_download"),
]
