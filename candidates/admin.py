from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ecocycle.admin import AuditedModelAdmin, ReadOnlyAdminMixin

from . import services
from .eligibility import reason_text
from .models import (
    Coordinator,
    CoordinatorInvitation,
    DuplicateAttempt,
    EligibilityPolicy,
    MatchRun,
    MatchRunTrack,
    Nomination,
    NominationDocument,
    NominationPreference,
    NominationScore,
    Placement,
    ScoringPolicy,
)


@admin.register(Coordinator)
class CoordinatorAdmin(AuditedModelAdmin):
    list_display = ["user", "university", "timezone"]
    list_filter = ["university__country", "university"]
    search_fields = ["user__email", "user__full_name", "university__name"]
    list_select_related = ["user", "university"]
    autocomplete_fields = ["user", "university"]


@admin.register(CoordinatorInvitation)
class CoordinatorInvitationAdmin(AuditedModelAdmin):
    """Adding an invitation here emails the coordinator a link to set their password."""

    list_display = ["email", "university", "language", "invited_by", "created_at", "accepted_at",
                    "revoked_at"]
    list_filter = ["university__country", "accepted_at"]
    search_fields = ["email", "full_name", "university__name"]
    list_select_related = ["university", "invited_by"]
    autocomplete_fields = ["university"]
    fields = ["email", "full_name", "university", "language"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        invitation = services.coordinator_invite(
            actor=request.user, email=form.cleaned_data["email"],
            university=form.cleaned_data["university"],
            full_name=form.cleaned_data.get("full_name", ""),
            language=form.cleaned_data.get("language", "en"),
        )
        obj.pk = invitation.pk
        obj.refresh_from_db()
        messages.info(request, _("The invitation was emailed to %(email)s.") % {
            "email": invitation.email})

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request, queryset):
        for invitation in queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True):
            services.coordinator_invitation_revoke(actor=request.user, invitation=invitation)


@admin.register(EligibilityPolicy)
class EligibilityPolicyAdmin(AuditedModelAdmin):
    list_display = ["program", "min_gpa", "min_toefl_ibt", "min_ielts", "min_topik",
                    "min_related_courses"]
    list_select_related = ["program"]
    search_fields = ["program__name"]


class PreferenceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NominationPreference
    fields = ["rank", "track"]
    readonly_fields = fields
    extra = 0


class DocumentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NominationDocument
    fields = ["kind", "download", "content_type", "size", "sha256", "created_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("candidates:document_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


@admin.register(Nomination)
class NominationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see every nomination; changes happen through the coordinators' doors."""

    list_display = ["__str__", "university", "intake_round", "status", "is_eligible",
                    "consent_given_at", "university_rank", "submitted_at"]
    list_filter = ["status", "is_eligible", "intake_round__program", "intake_round",
                   "university__country", "university"]
    search_fields = ["family_name", "given_names", "native_name", "email", "major"]
    list_select_related = ["university", "intake_round__program"]
    inlines = [PreferenceInline, DocumentInline]
    exclude = ["passport_number", "eligibility_reasons"]
    readonly_fields = ["passport_masked", "eligibility_notes"]

    @admin.display(description=_("passport number"))
    def passport_masked(self, obj):
        return obj.passport_masked

    @admin.display(description=_("eligibility notes"))
    def eligibility_notes(self, obj):
        return format_html_join("", "<div>{}</div>", ((reason_text(r),) for r in
                                                        obj.eligibility_reasons))

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(DuplicateAttempt)
class DuplicateAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "nomination", "nomination_university", "existing",
                    "existing_university", "matched_on"]
    list_filter = ["matched_on", "nomination__intake_round"]
    list_select_related = ["nomination__university", "existing__university"]

    @admin.display(description=_("refused for"))
    def nomination_university(self, obj):
        return obj.nomination.university

    @admin.display(description=_("already nominated by"))
    def existing_university(self, obj):
        return obj.existing.university

    def has_view_permission(self, request, obj=None):
        # Every KITECH staff member reviews them: the staff digest links here.
        return request.user.is_active and request.user.is_staff


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(AuditedModelAdmin):
    list_display = ["program", "weight_gpa", "weight_language", "weight_coursework",
                    "weight_interests", "weight_university_rank"]
    list_select_related = ["program"]


class MatchRunTrackInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MatchRunTrack
    fields = ["track", "seats", "placed", "applicants", "cutoff_rank", "cutoff_score"]
    readonly_fields = fields
    extra = 0


@admin.register(MatchRun)
class MatchRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every run, as recorded; proposals are reviewed and approved in the staff dashboard."""

    list_display = ["pk", "kind", "intake_round", "trigger", "status", "started_at", "duration_ms",
                    "placed", "candidates"]
    list_filter = ["kind", "status", "trigger", "intake_round"]
    list_select_related = ["intake_round__program"]
    inlines = [MatchRunTrackInline]

    @admin.display(description=_("placed"))
    def placed(self, obj):
        return obj.counts.get("placed")

    @admin.display(description=_("candidates"))
    def candidates(self, obj):
        return obj.counts.get("candidates")


@admin.register(NominationScore)
class NominationScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Why a candidate scored what they did for a track: the parts of the weighted score."""

    list_display = ["nomination", "track", "total", "parts", "computed_at"]
    list_filter = ["nomination__intake_round", "track__program"]
    search_fields = ["nomination__family_name", "nomination__given_names", "track__major"]
    list_select_related = ["nomination", "track"]

    @admin.display(description=_("components (0-1)"))
    def parts(self, obj):
        return ", ".join(f"{name} {value:.2f}" for name, value in obj.components.items())


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["nomination", "track", "choice_rank", "score", "match_run"]
    list_filter = ["match_run__intake_round", "match_run__status", "track"]
    search_fields = ["nomination__family_name", "nomination__given_names"]
    list_select_related = ["nomination", "track", "match_run"]
