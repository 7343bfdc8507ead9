"""Staff dashboard under /staff/: KITECH staff only (every view checks it)."""

from django.urls import path

from . import export_views, offer_views, round_views, wave_views

app_name = "staff_rounds"

urlpatterns = [
    path("", round_views.round_list, name="round_list"),
    path("rounds/<int:round_id>/", round_views.round_overview, name="round_overview"),
    path("rounds/<int:round_id>/cohort/", round_views.cohort_review, name="cohort_review"),
    path("rounds/<int:round_id>/cohort/overrides/", round_views.override_create,
         name="override_create"),
    path("rounds/<int:round_id>/cohort/overrides/<int:override_id>/clear/",
         round_views.override_clear, name="override_clear"),
    path("rounds/<int:round_id>/whatif/", round_views.whatif, name="whatif"),
    path("rounds/<int:round_id>/approve/", round_views.cohort_approve, name="cohort_approve"),
    path("rounds/<int:round_id>/approve/confirm/", round_views.cohort_approve_confirm,
         name="cohort_approve_confirm"),
    path("rounds/<int:round_id>/calendar/<slug:action>/", round_views.round_calendar,
         name="round_calendar"),
    path("rounds/<int:round_id>/reopen/", round_views.cohort_reopen, name="cohort_reopen"),
    path("rounds/<int:round_id>/run/", round_views.run_now, name="run_now"),
    path("rounds/<int:round_id>/run/status/", round_views.run_status, name="run_status"),
    path("rounds/<int:round_id>/audit/", round_views.audit_log, name="audit_log"),
    path("rounds/<int:round_id>/audit/export.csv", round_views.audit_export, name="audit_export"),
    path("rounds/<int:round_id>/export/<slug:what>.<slug:fmt>", export_views.export,
         name="export"),
    path("rounds/<int:round_id>/wave/", wave_views.wave_review, name="wave_review"),
    path("rounds/<int:round_id>/wave/propose/", wave_views.wave_propose, name="wave_propose"),
    path("rounds/<int:round_id>/wave/overrides/", wave_views.wave_override_create,
         name="wave_override_create"),
    path("rounds/<int:round_id>/wave/overrides/<int:override_id>/clear/",
         wave_views.wave_override_clear, name="wave_override_clear"),
    path("rounds/<int:round_id>/wave/approve/confirm/", wave_views.wave_approve_confirm,
         name="wave_approve_confirm"),
    path("rounds/<int:round_id>/wave/approve/", wave_views.wave_approve, name="wave_approve"),
    path("rounds/<int:round_id>/reserve/", wave_views.reserve, name="reserve"),
    path("rounds/<int:round_id>/offers/", offer_views.round_offers, name="round_offers"),
    path("rounds/<int:round_id>/offers/<int:offer_id>/", offer_views.round_offer,
         name="round_offer"),
    path("rounds/<int:round_id>/offers/<int:offer_id>/<slug:action>/",
         offer_views.round_offer_action, name="round_offer_action"),
    path("rounds/<int:round_id>/export/<slug:what>/build/", export_views.export_job_create,
         name="export_job_create"),
    path("exports/<int:job_id>/", export_views.export_job, name="export_job"),
    path("exports/<int:job_id>/download/", export_views.export_job_download,
         name="export_job_download"),
]
