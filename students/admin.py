from django.contrib import admin

from ecocycle.admin import ReadOnlyAdminMixin

from .models import AlumniOutcome, CareerProposal, Enrolment, ProgressMilestone


# After admission: read here; changed on the staff pages (/staff/students/, /staff/careers/),
# whose services keep the progress rules and the audit log.
class ProgressMilestoneInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ProgressMilestone
    extra = 0
    fields = ["kind", "on", "note", "recorded_by"]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["nomination", "status", "semester", "campus", "expected_graduation",
                    "graduated_on", "career_wish"]
    list_filter = ["status", "campus", "career_wish", "nomination__intake_round"]
    search_fields = ["nomination__family_name", "nomination__given_names", "thesis_title"]
    list_select_related = ["nomination"]
    inlines = [ProgressMilestoneInline]


@admin.register(AlumniOutcome)
class AlumniOutcomeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["enrolment", "path", "organisation", "employer_type", "country", "as_of",
                    "offers_to_mentor"]
    list_filter = ["path", "employer_type", "country", "offers_to_mentor"]
    search_fields = ["organisation", "enrolment__nomination__family_name"]
    list_select_related = ["enrolment__nomination"]


@admin.register(CareerProposal)
class CareerProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["enrolment", "company", "status", "fit", "introduced_at"]
    list_filter = ["status", "company"]
    search_fields = ["company__name", "enrolment__nomination__family_name"]
    list_select_related = ["enrolment__nomination", "company"]
