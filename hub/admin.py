"""The staff digests sent and the failed jobs, read only: the digest links to the failures."""

from django.contrib import admin

from ecocycle.admin import ReadOnlyAdminMixin

from .models import JobFailure, StaffDigest


class StaffReadableAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(JobFailure)
class JobFailureAdmin(StaffReadableAdmin):
    list_display = ["failed_at", "job", "error"]
    list_filter = ["job"]
    date_hierarchy = "failed_at"
    readonly_fields = ["job", "failed_at", "error", "traceback"]


@admin.register(StaffDigest)
class StaffDigestAdmin(StaffReadableAdmin):
    list_display = ["day", "created_at", "window_start", "window_end", "recipients", "forced"]
    readonly_fields = ["day", "created_at", "forced", "window_start", "window_end", "counts",
                       "recipients"]
