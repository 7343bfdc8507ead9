from django.urls import path

from . import import_views, views

app_name = "candidates"

urlpatterns = [
    path("nominations/", views.coordinator_home, name="coordinator_home"),
    path("nominations/rounds/<int:round_id>/new/", views.nomination_new, name="nomination_new"),
    path("nominations/rounds/<int:round_id>/import/", import_views.nomination_import,
         name="nomination_import"),
    path("nominations/rounds/<int:round_id>/import/template.csv", import_views.import_template,
         name="nomination_import_template"),
    path("nominations/rounds/<int:round_id>/import/<int:job_id>/", import_views.import_job,
         name="nomination_import_job"),
    path("nominations/rounds/<int:round_id>/import/<int:job_id>/status.json",
         import_views.import_job_status, name="nomination_import_job_status"),
    path("nominations/rounds/<int:round_id>/import/<int:job_id>/retry/",
         import_views.import_job_retry, name="nomination_import_job_retry"),
    path("nominations/<int:pk>/", views.nomination_detail, name="nomination_detail"),
    path("nominations/<int:pk>/edit/<slug:section>/", views.nomination_edit,
         name="nomination_edit"),
    path("nominations/<int:pk>/submit/", views.nomination_submit_view, name="nomination_submit"),
    path("nominations/<int:pk>/withdraw/", views.nomination_withdraw_view,
         name="nomination_withdraw"),
    path("nominations/<int:pk>/consent/resend/", views.nomination_consent_resend_view,
         name="nomination_consent_resend"),
    path("nominations/documents/<int:pk>/", views.document_download, name="document_download"),
    path("nominations/documents/<int:pk>/remove/", views.document_remove_view,
         name="document_remove"),
    path("consent/<str:token>/", views.consent, name="consent"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("account/", views.account, name="account"),
]
