"""Staff's page of a round's offers: every offer with its status (filtered and paginated in the
database), and one offer's page with what staff do to it: give the candidate more time, record a
decline received another way, record a no-show. KITECH staff only; every change goes through the
candidates' offer services, which refuse with the sentences shown beside each form."""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates import selectors, services
from candidates.models import Offer
from ecocycle.access import staff_required
from programs.calendar import moment
from programs.models import MAX_OFFER_RESPONSE_DAYS, IntakeRound
from programs.selectors import intake_round_list

OFFERS_PAGE_SIZE = 50
DATETIME_INPUT = "%Y-%m-%dT%H:%M"
NOTE_LENGTH = 500


def _round(round_id: int) -> IntakeRound:
    return get_object_or_404(intake_round_list(), pk=round_id)


def _offer(intake_round: IntakeRound, offer_id: int) -> Offer:
    offer = selectors.round_offer_get(intake_round, offer_id)
    if offer is None:
        raise Http404
    return offer


class ExtendForm(forms.Form):
    deadline = forms.DateTimeField(
        label=gettext_lazy("New deadline"), input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        error_messages={"required": gettext_lazy("Choose the new deadline."),
                        "invalid": gettext_lazy("Give the date and time of the new deadline.")})
    # Empty is let through: the service refuses it with the sentence staff should read.
    reason = forms.CharField(label=gettext_lazy("Reason (not shown to the candidate)"),
                             max_length=NOTE_LENGTH, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason the candidate gave"), required=False,
                               choices=[("", "—"), *Offer.DeclineReason.choices])
    note = forms.CharField(label=gettext_lazy("How the answer came, and any note"),
                           max_length=NOTE_LENGTH, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class NoShowForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("What happened"), max_length=NOTE_LENGTH,
                             required=False, widget=forms.Textarea(attrs={"rows": 2}))


FORMS = {"extend": ExtendForm, "decline": DeclineForm, "no-show": NoShowForm}
# The offer's statuses each action is offered for (the services check again).
ACTION_STATUSES = {"extend": (Offer.Status.PENDING,),
                   "decline": (Offer.Status.PENDING, Offer.Status.ACCEPTED),
                   "no-show": (Offer.Status.ACCEPTED,)}
DONE = {
    "extend": gettext_lazy("%(name)s now has until %(date)s to answer; they are told by email."),
    "decline": gettext_lazy("The decline of %(name)s is recorded and the seat is back; they are "
                            "told by email."),
    "no-show": gettext_lazy("%(name)s is recorded as not taking up the place and the seat is "
                            "back; they are told by email."),
}


def _call(action: str, *, actor, offer: Offer, data: dict) -> Offer:
    if action == "extend":
        return services.offer_extend(actor=actor, offer=offer, deadline=data["deadline"],
                                     reason=data["reason"])
    if action == "decline":
        return services.offer_decline(actor=actor, offer=offer, reason=data["reason"],
                                      note=data["note"])
    return services.offer_no_show(actor=actor, offer=offer, reason=data["reason"])


@never_cache
@staff_required
@require_GET
def round_offers(request, round_id):
    intake_round = _round(round_id)
    status = request.GET.get("status") or ""
    if status not in Offer.Status.values:
        status = ""
    offers = selectors.round_offers(intake_round, status=status or None)
    page = Paginator(offers, OFFERS_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.round_offer_counts(intake_round)
    return render(request, "hub/round_offers.html", {
        "intake_round": intake_round, "active": "offers",
        "cohort": selectors.cohort_get_for_round(intake_round), "page": page,
        "status": status, "total": sum(counts.values()),
        "statuses": [(value, label, counts.get(value, 0))
                     for value, label in Offer.Status.choices],
        "filter_query": urlencode({"status": status}) if status else "",
    })


def _offer_page(request, intake_round: IntakeRound, offer: Offer, *, action: str = "",
                form: forms.Form | None = None, errors=(), status: int = 200):
    suggested = timezone.localtime(max(offer.deadline, timezone.now())) + timedelta(days=7)
    actions = []
    for name, form_class in FORMS.items():
        if offer.status not in ACTION_STATUSES[name]:
            continue
        bound = form if name == action else form_class(
            auto_id=f"offer-{name}-%s",
            initial={"deadline": suggested.replace(second=0, microsecond=0)}
            if name == "extend" else None)
        actions.append({"name": name, "id": f"offer-{name}", "form": bound,
                        "errors": errors if name == action else (), "open": name == action})
    # A refusal of an action the offer no longer offers (a form left open while it changed).
    page_errors = errors if action and offer.status not in ACTION_STATUSES[action] else ()
    return render(request, "hub/round_offers_detail.html", {
        "intake_round": intake_round, "active": "offers", "offer": offer,
        "page_errors": page_errors,
        "cohort": selectors.cohort_get_for_round(intake_round), "actions": actions,
        "max_days": MAX_OFFER_RESPONSE_DAYS,
    }, status=status)


@never_cache
@staff_required
@require_GET
def round_offer(request, round_id, offer_id):
    intake_round = _round(round_id)
    return _offer_page(request, intake_round, _offer(intake_round, offer_id))


@staff_required
@require_POST
def round_offer_action(request, round_id, offer_id, action):
    """One of the three actions on an offer; a refusal is shown beside its form, with what was
    typed."""
    intake_round = _round(round_id)
    if action not in FORMS:
        raise Http404
    offer = _offer(intake_round, offer_id)
    form = FORMS[action](request.POST, auto_id=f"offer-{action}-%s")
    errors: list[str] = []
    if form.is_valid():
        try:
            offer = _call(action, actor=request.user, offer=offer, data=form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages_ in error.message_dict.items():
                    if field in form.fields:
                        for message in messages_:
                            form.add_error(field, message)
                    else:
                        errors += messages_
            else:
                errors = error.messages
        else:
            messages.success(request, DONE[action] % {"name": offer.nomination,
                                                      "date": moment(offer.deadline)})
            return redirect("staff_rounds:round_offer", round_id=intake_round.pk,
                            offer_id=offer.pk)
    offer = _offer(intake_round, offer_id)
    return _offer_page(request, intake_round, offer, action=action, form=form, errors=errors,
                       status=400)
