"""Staff dashboard under /staff/: KITECH staff only (every view checks it)."""

from django.urls import path

from . import export_views, staff_views

app_name = "staff_rounds"

urlpatterns = [
    path("", staff_views.round_list, name="round_list"),
    path("rounds/<int:round_id>/", staff_views.round_overview, name="round_overview"),
    path("rounds/<int:round_id>/cohort/", staff_views.cohort_review, name="cohort_review"),
    path("rounds/<int:round_id>/cohort/overrides/", staff_views.override_create,
         name="override_create"),
    path("rounds/<int:round_id>/cohort/overrides/<int:override_id>/clear/",
         staff_views.override_clear, name="override_clear"),
    path("rounds/<int:round_id>/whatif/", staff_views.whatif, name="whatif"),
    path("rounds/<int:round_id>/approve/", staff_views.cohort_approve, name="cohort_approve"),
    path("rounds/<int:round_id>/approve/confirm/", staff_views.cohort_approve_confirm,
         name="cohort_approve_confirm"),
    path("rounds/<int:round_id>/calendar/<slug:action>/", staff_views.round_calendar,
         name="round_calendar"),
    path("rounds/<int:round_id>/reopen/", staff_views.cohort_reopen, name="cohort_reopen"),
    path("rounds/<int:round_id>/run/", staff_views.run_now, name="run_now"),
    path("rounds/<int:round_id>/run/status/", staff_views.run_status, name="run_status"),
    path("rounds/<int:round_id>/audit/", staff_views.audit_log, name="audit_log"),
    path("rounds/<int:round_id>/export/<slug:what>.<slug:fmt>", export_views.export,
         name="export"),
]
