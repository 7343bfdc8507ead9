from django.contrib import admin

from ecocycle.admin import AuditedModelAdmin, ReadOnlyAdminMixin

from .models import Mentor, MentorAssignment


@admin.register(Mentor)
class MentorAdmin(AuditedModelAdmin):
    list_display = ["full_name", "email", "retired_from", "capacity", "language", "is_active"]
    list_filter = ["is_active", "language", "expertise__program"]
    search_fields = ["full_name", "email", "retired_from", "keywords"]
    filter_horizontal = ["expertise"]
    autocomplete_fields = ["user"]


@admin.register(MentorAssignment)
class MentorAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["nomination", "mentor", "status", "fit", "created_at", "responded_at"]
    list_filter = ["status", "nomination__intake_round"]
    search_fields = ["mentor__full_name", "nomination__family_name"]
    list_select_related = ["nomination", "mentor"]
