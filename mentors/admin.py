from django.contrib import admin

from ecocycle.admin import AuditedModelAdmin, ReadOnlyAdminMixin

from .models import Mentor, MentorAssignment, MentoringActivity
from .services import mentor_create


@admin.register(Mentor)
class MentorAdmin(AuditedModelAdmin):
    list_display = ["full_name", "email", "retired_from", "capacity", "language", "is_active"]
    list_filter = ["is_active", "language", "expertise__program"]
    search_fields = ["full_name", "email", "retired_from", "keywords"]
    filter_horizontal = ["expertise"]
    autocomplete_fields = ["user"]
    change_list_template = "admin/mentors/mentor/change_list.html"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # The same service as the CSV import: it also opens the mentor's (passwordless) account.
        created = mentor_create(actor=request.user,
                                data=self._form_data(form, creating=True))
        obj.pk = created.pk
        obj.refresh_from_db()


@admin.register(MentorAssignment)
class MentorAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["nomination", "mentor", "status", "fit", "invited_at", "expires_at",
                    "responded_at"]
    list_filter = ["status", "nomination__intake_round"]
    search_fields = ["mentor__full_name", "nomination__family_name"]
    list_select_related = ["nomination", "mentor"]


@admin.register(MentoringActivity)
class MentoringActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "mode", "assignment", "recorded_by"]
    list_filter = ["mode", "assignment__nomination__intake_round"]
    search_fields = ["assignment__mentor__full_name", "assignment__nomination__family_name"]
    list_select_related = ["assignment__mentor", "assignment__nomination", "recorded_by"]
