"""The candidate's own page: no password, reached by a signed link (see
`candidates.services.candidate_page`). Composed here because it shows what follows the
decision too (mentor, enrolment), which the candidates app does not import.

Every view reads the one nomination its link names, and every object a URL names (a document,
an offer) is looked up within that nomination: another candidate's is a 404. GETs change
nothing (email scanners open links); every change is a POST, the weighty ones (withdraw, an
answer to the offer) after a page that asks to confirm.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from candidates.forms import DocumentForm
from candidates.models import Nomination, Offer
from candidates.services import (
    CANDIDATE_EMAIL_LINK,
    candidate_document_upload,
    candidate_email_change_confirm,
    candidate_email_change_request,
    candidate_email_check,
    candidate_phone_change,
    candidate_withdraw,
    offer_accept,
    offer_decline,
)
from candidates.services.candidate_page import (
    CANDIDATE_PAGE_LINK,
    candidate_page_check,
    candidate_time_zone,
)
from candidates.tasks import send_candidate_page_links
from ecocycle.exceptions import form_add_error
from ecocycle.links import LinkState, link_dead_render, link_language_activate, link_page

from .candidate_forms import (
    DeclineForm,
    EmailChangeForm,
    LinkRequestForm,
    PhoneForm,
    WithdrawForm,
)
from .candidate_page import candidate_page_read


def _opened(request, token):
    """The nomination the link names, with the page spoken in the candidate's language and
    dates in their time zone; or the dead link's response."""
    check = candidate_page_check(token)
    link_language_activate(request, CANDIDATE_PAGE_LINK, check)
    shown = link_page(CANDIDATE_PAGE_LINK, check)
    if shown.dead:
        return None, link_dead_render(request, CANDIDATE_PAGE_LINK, shown)
    nomination = check.object
    timezone.activate(candidate_time_zone(nomination))
    return nomination, None


def _page(request, token, nomination: Nomination, *, status: int = 200, **forms):
    view = candidate_page_read(nomination)
    context = {
        "token": token, "view": view, "nomination": nomination,
        "zone": timezone.get_current_timezone_name(),
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "phone_form": forms.get("phone_form") or PhoneForm(initial={"phone": nomination.phone}),
        "document_form": forms.get("document_form") or DocumentForm(),
    }
    return render(request, "hub/candidate_page.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def page(request, token):
    nomination, dead = _opened(request, token)
    if dead:
        return dead
    if request.method == "GET":
        return _page(request, token, nomination)
    action = request.POST.get("action")
    if action == "email":
        form = EmailChangeForm(request.POST)
        if form.is_valid():
            try:
                candidate_email_change_request(nomination=nomination,
                                               email=form.cleaned_data["email"])
            except ValidationError as error:
                form_add_error(form, error)
            else:
                messages.success(request, _(
                    "We sent a link to %(email)s. Open it to confirm the new address; until "
                    "then we write to your current address.") % {
                        "email": form.cleaned_data["email"]})
                return redirect("candidate:page", token=token)
        return _page(request, token, nomination, status=400, email_form=form)
    if action == "phone":
        form = PhoneForm(request.POST)
        if form.is_valid():
            try:
                candidate_phone_change(nomination=nomination, phone=form.cleaned_data["phone"])
            except ValidationError as error:
                form_add_error(form, error)
            else:
                messages.success(request, _("Your phone number is saved."))
                return redirect("candidate:page", token=token)
        return _page(request, token, nomination, status=400, phone_form=form)
    if action == "document":
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                candidate_document_upload(nomination=nomination, kind=form.cleaned_data["kind"],
                                          file=form.cleaned_data["file"])
            except ValidationError as error:
                form_add_error(form, error)
            else:
                messages.success(request, _("Your document is saved."))
                return redirect("candidate:page", token=token)
        return _page(request, token, nomination, status=400, document_form=form)
    return _page(request, token, nomination, status=400)


@never_cache
@require_http_methods(["GET"])
def document_download(request, token, document_id):
    nomination, dead = _opened(request, token)
    if dead:
        return dead
    document = get_object_or_404(nomination.documents, pk=document_id)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=document.content_type, as_attachment=True,
                            filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request, token):
    nomination, dead = _opened(request, token)
    if dead:
        return dead
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            candidate_withdraw(nomination=nomination, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _(
                "Your nomination is withdrawn. Your university's coordinator has been told."))
            return redirect("candidate:page", token=token)
    return render(request, "hub/candidate_withdraw.html", {
        "token": token, "nomination": nomination, "form": form,
        "view": candidate_page_read(nomination)},
        status=400 if request.method == "POST" else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def offer_answer(request, token, offer_id, answer):
    if answer not in ("accept", "decline"):
        raise Http404
    nomination, dead = _opened(request, token)
    if dead:
        return dead
    # Only this candidate's offers: another's id is not found.
    offer = get_object_or_404(Offer.objects.select_related("track"), pk=offer_id,
                              nomination=nomination)
    form = DeclineForm(request.POST or None) if answer == "decline" else None
    error = None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if answer == "accept":
                offer_accept(offer=offer)
                messages.success(request, _("You accepted the place in %(track)s. Welcome!") % {
                    "track": offer.track})
            else:
                offer_decline(offer=offer, reason=form.cleaned_data["reason"],
                              note=form.cleaned_data["note"])
                messages.success(request, _("You declined the place in %(track)s.") % {
                    "track": offer.track})
        except ValidationError as refusal:
            if form is not None:
                form_add_error(form, refusal)
            else:
                error = refusal
        else:
            return redirect("candidate:page", token=token)
    return render(request, "hub/candidate_offer.html", {
        "token": token, "nomination": nomination, "offer": offer, "answer": answer,
        "form": form, "error": error, "zone": timezone.get_current_timezone_name(),
        "open": offer.status == Offer.Status.PENDING and offer.deadline > timezone.now()},
        status=400 if request.method == "POST" else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request, token):
    """The link sent to a new address: GET shows the address, the POST makes it the candidate's."""
    check = candidate_email_check(token)
    link_language_activate(request, CANDIDATE_EMAIL_LINK, check)
    if request.method == "POST" and check.state == LinkState.VALID:
        try:
            nomination = candidate_email_change_confirm(token=token)
        except ValidationError as error:
            return render(request, "hub/candidate_email_confirm.html", {
                "state": "refused", "change": check.object, "errors": error.messages},
                status=400)
        return render(request, "hub/candidate_email_confirm.html", {
            "state": "confirmed", "change": check.object, "nomination": nomination})
    shown = link_page(CANDIDATE_EMAIL_LINK, check)
    if shown.dead:
        return link_dead_render(request, CANDIDATE_EMAIL_LINK, shown)
    return render(request, "hub/candidate_email_confirm.html", {
        "state": "answered" if shown.state == "used" else "valid", "change": check.object})


def _over_limit(request, email: str) -> bool:
    """Count the request against its client address and its email address, an hour each."""
    limit = settings.ECOCYCLE_CANDIDATE_LINK_REQUESTS_PER_HOUR
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    over = False
    for key in (f"candidate-link:ip:{request.META.get('REMOTE_ADDR', '')}",
                f"candidate-link:email:{digest}"):
        cache.add(key, 0, 3600)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, 3600)
            count = 1
        over = over or count > limit
    return over


@never_cache
@require_http_methods(["GET", "POST"])
def link_request(request):
    """"Email me my link": the same words and status for a known or unknown address. The
    lookup and the emails are a job queued on commit, so the answer takes as long either way."""
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if _over_limit(request, email):
            return render(request, "hub/candidate_link_request.html", {
                "form": form, "state": "limited"}, status=429)
        send_candidate_page_links.delay_on_commit(email)
        return render(request, "hub/candidate_link_request.html", {"state": "sent"})
    return render(request, "hub/candidate_link_request.html", {"form": form, "state": "form"},
                  status=400 if request.method == "POST" else 200)
