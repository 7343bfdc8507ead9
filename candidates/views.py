"""Coordinator pages, the candidate's consent page and the invitation page.

Thin: each view reads through selectors, writes through one service, and shows a DomainError
next to the field it names, keeping what the user entered.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.forms import BaseFormSet, Form
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ecocycle.exceptions import DomainError, form_add_error, messages_add_error
from ecocycle.links import LinkState, link_dead_render, link_language_activate, link_page
from ecocycle.services import user_staff_digest_set
from programs.models import IntakeRound

from . import selectors, services
from .eligibility import reason_text
from .forms import (
    CourseFormSet,
    DocumentForm,
    InvitationAcceptForm,
    LanguageForm,
    PersonForm,
    PreferencesForm,
    StudiesForm,
    WithdrawForm,
)
from .models import Nomination

# Lazy: built at import time, the labels are translated when each page shows them.
SECTIONS = [
    ("person", gettext_lazy("Person")),
    ("studies", gettext_lazy("Studies")),
    ("language", gettext_lazy("Language")),
    ("preferences", gettext_lazy("Interests and preferences")),
    ("documents", gettext_lazy("Documents")),
]
SECTION_KEYS = [key for key, _label in SECTIONS]


def coordinator_required(view):
    """Coordinators only; the coordinator is passed to the view."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        coordinator = selectors.coordinator_for_user(request.user)
        if coordinator is None:
            raise PermissionDenied
        return view(request, coordinator, *args, **kwargs)

    return wrapper


@never_cache
@coordinator_required
def coordinator_home(request, coordinator):
    rounds = selectors.round_list_for_coordinator(coordinator)
    status = request.GET.get("status") or None
    if status not in Nomination.Status.values:
        status = None
    outcome = request.GET.get("outcome") or None
    if outcome not in selectors.OutcomeCode.values:
        outcome = None
    round_id = request.GET.get("round")
    round_filter = int(round_id) if round_id and round_id.isdigit() else None
    search = (request.GET.get("q") or "").strip()[:100]
    nominations = selectors.nomination_list_for_user(
        request.user, intake_round=round_filter, status=status, search=search or None,
        outcome=outcome,
    )
    page = Paginator(nominations, 25).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    selectors.nomination_outcomes(page.object_list)
    return render(request, "candidates/coordinator_home.html", {
        "coordinator": coordinator, "rounds": rounds, "page": page,
        "statuses": Nomination.Status.choices, "status": status, "round_filter": round_filter,
        "search": search, "outcomes": selectors.OutcomeCode.choices, "outcome": outcome,
    })


@coordinator_required
@require_http_methods(["GET", "POST"])
def nomination_new(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    if intake_round.phase != IntakeRound.Phase.NOMINATIONS:
        # Not offered: a form that could only fail on save.
        messages.info(request, _("%(round)s does not take nominations now.") % {
            "round": intake_round})
        return redirect("candidates:coordinator_home")
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            nomination = services.nomination_save(
                actor=request.user, intake_round=intake_round,
                university=coordinator.university, data=form.service_data(),
            )
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("Draft saved. Continue with the studies."))
            return redirect("candidates:nomination_edit", pk=nomination.pk, section="studies")
    return render(request, "candidates/nomination_section.html", {
        "intake_round": intake_round, "form": form, "section": "person", "sections": SECTIONS,
        "nomination": None,
    })


def _section_context(request, nomination, section):
    context = {"nomination": nomination, "intake_round": nomination.intake_round,
               "section": section, "sections": SECTIONS}
    return context


@dataclass
class _SectionEdit:
    """A section's form (and formset), and what nomination_save is given once they are valid."""

    form: Form
    changes: Callable[[], dict[str, Any]]
    context: dict[str, Any] = field(default_factory=dict)
    formset: BaseFormSet | None = None

    def is_valid(self) -> bool:
        return self.form.is_valid() and (self.formset is None or self.formset.is_valid())


def _person_edit(nomination, data) -> _SectionEdit:
    form = PersonForm(data, instance=nomination)
    return _SectionEdit(form, lambda: {"data": form.service_data()})


def _studies_edit(nomination, data) -> _SectionEdit:
    form = StudiesForm(data, instance=nomination)
    initial = [{"name": c.name, "grade": c.grade, "technologies": list(c.technologies.all())}
               for c in nomination.courses.prefetch_related("technologies")]
    courses = CourseFormSet(data, initial=initial, prefix="courses", form_kwargs={
        "technologies": nomination.intake_round.program.core_technologies.all()})
    return _SectionEdit(form, lambda: {
        "data": form.service_data(),
        "courses": [f.cleaned_data for f in courses.forms if f.cleaned_data],
    }, context={"courses": courses}, formset=courses)


def _language_edit(nomination, data) -> _SectionEdit:
    form = LanguageForm(data, instance=nomination)
    return _SectionEdit(form, lambda: {"data": form.service_data()})


def _preferences_edit(nomination, data) -> _SectionEdit:
    tracks = selectors.round_tracks(nomination.intake_round)
    initial = {"research_interests": nomination.research_interests,
               "university_rank": nomination.university_rank}
    for preference in nomination.preferences.all():
        initial[f"choice_{preference.rank}"] = preference.track_id
    form = PreferencesForm(data, initial=initial, tracks=tracks,
                           limit=nomination.intake_round.preference_limit)
    return _SectionEdit(form, lambda: {
        "data": {"research_interests": form.cleaned_data["research_interests"],
                 "university_rank": form.cleaned_data["university_rank"]},
        "preferences": form.tracks(),
    }, context={"tracks": tracks})


SECTION_EDITS = {"person": _person_edit, "studies": _studies_edit, "language": _language_edit,
                 "preferences": _preferences_edit}


@coordinator_required
@require_http_methods(["GET", "POST"])
def nomination_edit(request, coordinator, pk, section):
    nomination = selectors.nomination_get_for_user(request.user, pk)
    if section not in SECTION_KEYS:
        raise Http404
    if not _nomination_view(nomination).editable:
        # Read only: the nomination's page says why, instead of a form that fails on save.
        return redirect("candidates:nomination_detail", pk=nomination.pk)
    data = request.POST if request.method == "POST" else None
    if section == "documents":
        return _documents_edit(request, nomination, data)
    edit = SECTION_EDITS[section](nomination, data)
    context = {**_section_context(request, nomination, section), **edit.context,
               "form": edit.form}
    if request.method == "POST" and edit.is_valid():
        try:
            services.nomination_save(actor=request.user, nomination=nomination,
                                     **edit.changes())
        except ValidationError as error:
            form_add_error(edit.form, error)
        else:
            messages.success(request, _("Saved."))
            position = SECTION_KEYS.index(section)
            if "save_next" in request.POST and position + 1 < len(SECTION_KEYS):
                return redirect("candidates:nomination_edit", pk=nomination.pk,
                                section=SECTION_KEYS[position + 1])
            return redirect("candidates:nomination_detail", pk=nomination.pk)
    return render(request, "candidates/nomination_section.html", context)


def _documents_edit(request, nomination, data):
    form = DocumentForm(data, request.FILES or None)
    context = {**_section_context(request, nomination, "documents"), "form": form,
               "required": selectors.required_documents(nomination)}
    if request.method == "POST" and form.is_valid():
        try:
            services.document_upload(actor=request.user, nomination=nomination,
                                     kind=form.cleaned_data["kind"],
                                     file=form.cleaned_data["file"])
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("Document uploaded."))
            return redirect("candidates:nomination_edit", pk=nomination.pk, section="documents")
    return render(request, "candidates/nomination_section.html", context)


@dataclass(frozen=True)
class _NominationView:
    """What the coordinator's nomination page offers: it is editable only while its round takes
    nominations and nothing has been decided about it."""

    outcome: selectors.NominationOutcome
    editable: bool
    # When the round's nominations closed, if they have.
    closed_at: datetime | None


def _nomination_view(nomination: Nomination) -> _NominationView:
    outcome = selectors.nomination_outcomes([nomination])[nomination.pk]
    intake_round = nomination.intake_round
    editable = (intake_round.phase == IntakeRound.Phase.NOMINATIONS
                and nomination.status != Nomination.Status.WITHDRAWN and not outcome.decided)
    close = intake_round.nominations_close_at
    return _NominationView(outcome, editable,
                           close if close is not None and close <= timezone.now() else None)


@never_cache
@coordinator_required
def nomination_detail(request, coordinator, pk):
    nomination = selectors.nomination_get_for_user(request.user, pk)
    # Read once: the courses for the page and for what a draft still misses, the milestones
    # for the round's phase and deadline.
    prefetch_related_objects([nomination], "courses__technologies", "intake_round__milestones")
    view = _nomination_view(nomination)
    draft = nomination.status == Nomination.Status.DRAFT
    return render(request, "candidates/nomination_detail.html", {
        "nomination": nomination, "coordinator": coordinator, "sections": SECTIONS,
        "missing": services.nomination_missing_parts(nomination) if draft and view.editable
        else [],
        "outcome": view.outcome, "editable": view.editable, "closed_at": view.closed_at,
        "can_resend_consent": view.editable and nomination.status == Nomination.Status.SUBMITTED
        and nomination.consent_given_at is None,
        "reasons": [reason_text(r) for r in nomination.eligibility_reasons],
        "courses": nomination.courses.all(),
        "withdraw_form": WithdrawForm(),
    })


@coordinator_required
@require_POST
def nomination_submit_view(request, coordinator, pk):
    nomination = selectors.nomination_get_for_user(request.user, pk)
    try:
        services.nomination_submit(actor=request.user, nomination=nomination)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _(
            "Submitted. The candidate has been emailed a link to confirm consent and preferences."
        ))
    return redirect("candidates:nomination_detail", pk=nomination.pk)


@coordinator_required
@require_POST
def nomination_withdraw_view(request, coordinator, pk):
    nomination = selectors.nomination_get_for_user(request.user, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.nomination_withdraw(actor=request.user, nomination=nomination, reason=reason)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("The nomination was withdrawn."))
    return redirect("candidates:nomination_detail", pk=nomination.pk)


@coordinator_required
@require_POST
def nomination_consent_resend_view(request, coordinator, pk):
    nomination = selectors.nomination_get_for_user(request.user, pk)
    try:
        services.consent_resend(actor=request.user, nomination=nomination)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _(
            "A new consent link was emailed to %(email)s; the earlier link no longer works."
        ) % {"email": nomination.email})
    return redirect("candidates:nomination_detail", pk=nomination.pk)


@login_required
def document_download(request, pk):
    document = selectors.document_get_for_user(request.user, pk)
    # Streamed through this view after the permission check, from the disk or the object store
    # alike: no storage URL is handed out. A file gone from the store is a 404, not a 500.
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=document.content_type,
                            as_attachment=True, filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@coordinator_required
@require_POST
def document_remove_view(request, coordinator, pk):
    document = selectors.document_get_for_user(request.user, pk)
    try:
        services.document_remove(actor=request.user, document=document)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("Document removed."))
    return redirect("candidates:nomination_edit", pk=document.nomination_id, section="documents")


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request, token):
    """The candidate's page. GET only shows; the POST confirms (email scanners open links)."""
    check = services.consent_check(token)
    link_language_activate(request, services.CONSENT_LINK, check)
    if request.method == "POST" and check.state == LinkState.VALID:
        try:
            nomination = services.consent_confirm(token=token)
        except ValidationError:
            check = services.consent_check(token)
        else:
            return render(request, "candidates/consent.html", {
                "state": "confirmed", "nomination": nomination})
    page = link_page(services.CONSENT_LINK, check)
    if page.dead:
        return link_dead_render(request, services.CONSENT_LINK, page)
    return render(request, "candidates/consent.html", {
        "state": "answered" if page.state == "used" else "valid", "nomination": check.object,
    })


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    check = services.invitation_check(token)
    page = link_page(services.COORDINATOR_INVITATION_LINK, check)
    if page.dead:
        return link_dead_render(request, services.COORDINATOR_INVITATION_LINK, page)
    invitation = check.object
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            coordinator = services.invitation_accept(token=token,
                                                     password=form.cleaned_data["password1"])
        except ValidationError as error:
            form_add_error(form, error)
        else:
            login(request, coordinator.user,
                  backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("candidates:coordinator_home")
    return render(request, "candidates/invitation.html", {"invitation": invitation, "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The user's account: API token (coordinators), the daily digest (staff), password and
    two-factor links."""
    coordinator = selectors.coordinator_for_user(request.user)
    new_key = None
    if request.method == "POST" and "staff_digest" in request.POST and request.user.is_kitech_staff:
        user_staff_digest_set(actor=request.user, user=request.user,
                              wants=request.POST.get("wants_staff_digest") == "1")
        messages.success(request, _("Your choice about the daily staff digest is saved."))
        return redirect("candidates:account")
    if request.method == "POST" and coordinator is not None:
        if "create_token" in request.POST:
            try:
                new_key = services.api_token_create(actor=request.user, user=request.user)
            except DomainError as error:
                messages_add_error(request, error)
            else:
                messages.success(request, _("A new API token was created. Copy it now: it is "
                                            "shown only once."))
        elif "revoke_token" in request.POST:
            # Scoped to the signed-in user: another user's digest revokes nothing.
            if services.api_token_revoke(actor=request.user, user=request.user,
                                         digest=request.POST["revoke_token"]):
                messages.success(request, _("The API token was revoked."))
            return redirect("candidates:account")
    return render(request, "candidates/account.html", {
        "coordinator": coordinator, "new_key": new_key,
        "tokens": selectors.api_tokens_for_user(request.user) if coordinator else [],
        "token_ttl_days": settings.ECOCYCLE_API_TOKEN_TTL_DAYS,
        "api_docs": reverse("api-docs"),
    })
