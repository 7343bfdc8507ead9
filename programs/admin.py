from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from ecocycle.admin import AuditedModelAdmin

from .models import (
    CoreTechnology,
    DegreeTrack,
    IntakeRound,
    PartnerCompany,
    Program,
    ProgramUniversity,
    RoundMilestone,
    RoundTrack,
    University,
    validate_milestone_order,
)


class ProgramUniversityInline(admin.TabularInline):
    model = ProgramUniversity
    extra = 0
    autocomplete_fields = ["university"]


class CoreTechnologyInline(admin.TabularInline):
    model = CoreTechnology
    extra = 0


@admin.register(University)
class UniversityAdmin(AuditedModelAdmin):
    list_display = ["name", "country", "city", "email_domain", "program_count"]
    list_filter = ["country"]
    search_fields = ["name", "city", "email_domain"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(program_count=Count("participations"))

    @admin.display(description=_("programs"), ordering="program_count")
    def program_count(self, obj):
        return obj.program_count


@admin.register(Program)
class ProgramAdmin(AuditedModelAdmin):
    list_display = ["name", "country", "industry", "status", "track_count", "university_count"]
    list_filter = ["status", "country"]
    search_fields = ["name", "industry", "description", "core_technologies__name"]
    inlines = [CoreTechnologyInline, ProgramUniversityInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            track_count=Count("tracks", distinct=True),
            university_count=Count("participations", distinct=True),
        )

    @admin.display(description=_("tracks"), ordering="track_count")
    def track_count(self, obj):
        return obj.track_count

    @admin.display(description=_("universities"), ordering="university_count")
    def university_count(self, obj):
        return obj.university_count


@admin.register(CoreTechnology)
class CoreTechnologyAdmin(AuditedModelAdmin):
    list_display = ["name", "program", "keywords"]
    list_filter = ["program"]
    search_fields = ["name", "keywords"]
    list_select_related = ["program"]


@admin.register(DegreeTrack)
class DegreeTrackAdmin(AuditedModelAdmin):
    list_display = [
        "major", "level", "department", "campus", "program", "supervisor_name",
        "language_of_instruction", "seats", "is_active",
    ]
    list_filter = ["program", "level", "campus", "language_of_instruction", "is_active"]
    search_fields = ["major", "department", "supervisor_name", "supervisor_email",
                     "wanted_keywords"]
    list_select_related = ["program"]
    filter_horizontal = ["wanted_technologies"]


class MilestoneFormSet(BaseInlineFormSet):
    """Offers the five milestones on a new round and checks that their dates are in order."""

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        if instance is None or instance.pk is None:
            kwargs.setdefault("initial", [{"kind": k} for k in RoundMilestone.Kind.values])
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        dates = {
            f.cleaned_data["kind"]: f.cleaned_data["at"]
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        }
        try:
            validate_milestone_order(dates)
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class RoundMilestoneInline(admin.TabularInline):
    model = RoundMilestone
    formset = MilestoneFormSet

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.pk else len(RoundMilestone.Kind.values)


class RoundTrackInline(admin.TabularInline):
    model = RoundTrack
    extra = 0
    autocomplete_fields = ["track"]


@admin.register(IntakeRound)
class IntakeRoundAdmin(AuditedModelAdmin):
    list_display = ["name", "program", "current_phase", "nominations_close", "preference_limit"]
    list_filter = ["program"]
    search_fields = ["name", "program__name"]
    inlines = [RoundMilestoneInline, RoundTrackInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("program").prefetch_related(
            "milestones"
        )

    @admin.display(description=_("phase"))
    def current_phase(self, obj):
        return obj.get_phase_display()

    @admin.display(description=_("nominations close"))
    def nominations_close(self, obj):
        return obj.nominations_close_at


@admin.register(PartnerCompany)
class PartnerCompanyAdmin(AuditedModelAdmin):
    list_display = ["name", "kind", "sector", "size_band", "country", "region",
                    "openings_per_year", "is_active"]
    list_filter = ["kind", "size_band", "country", "is_active", "programs"]
    search_fields = ["name", "sector", "region", "skill_keywords", "contact_name"]
    filter_horizontal = ["programs", "technologies"]
