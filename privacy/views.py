"""Staff pages for data protection under /staff/privacy/: find a person, export their data as
JSON or erase it on request, and the retention job's list with "apply now".

KITECH staff only: every view is wrapped in `staff_required`. Thin: reads go through
`privacy.selectors`, writes through `privacy.services`. Exports are POSTs (they write an audit
entry; a GET never does).
The mentors' side is `privacy.mentor_views`, which shares this module's tabs and form.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates.models import Nomination
from ecocycle.access import staff_required
from ecocycle.exceptions import form_add_error, messages_add_error
from ecocycle.locks import JobBusy

from . import selectors, services


class ErasureForm(forms.Form):
    """The reason for an erasure and its confirmation; the service checks the reason."""

    # Empty is let through: the service refuses it with the message staff should read.
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, required=False, strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("When and how the person asked, e.g. “email of 3 May 2027”. "
                               "It is kept in the audit log: write no personal data here."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that the personal data is removed for good."),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("confirm"):
            self.add_error("confirm", _("Tick the box to confirm the erasure."))
        return cleaned


def erasure_handle(form: ErasureForm, erase) -> bool:
    """Validate the form, then call `erase(reason)`; errors land on the form. True when done."""
    if not form.is_valid():
        return False
    try:
        erase(form.cleaned_data["reason"])
    except ValidationError as error:
        form_add_error(form, error)
        return False
    return True


def json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def tabs(active: str, query: str = "") -> dict:
    """The links of the privacy pages' tabs."""
    return {"active": active, "query": query,
            "mentor_search_url": reverse("staff_privacy:mentor_search")}


# --- search -------------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def search(request):
    query = (request.GET.get("q") or "").strip()[:200]
    return render(request, "privacy/search.html", {
        **tabs("candidates", query),
        "nominations": list(selectors.person_search(query=query)) if query else [],
    })


# --- one person ---------------------------------------------------------------------------------

def _nomination(pk: int) -> Nomination:
    return selectors.person_get(pk)


def _person_context(nomination: Nomination, form: ErasureForm) -> dict:
    return {
        **tabs("candidates"),
        "nomination": nomination,
        "admission": getattr(nomination, "admission", None),
        "held": selectors.person_held(nomination),
        "others": list(selectors.person_nominations(nomination)),
        "mentor_profiles": list(selectors.person_mentor_profiles(nomination)),
        "form": form,
    }


@never_cache
@staff_required
@require_GET
def person(request, pk):
    nomination = _nomination(pk)
    return render(request, "privacy/person.html",
                  _person_context(nomination, ErasureForm()))


@never_cache
@staff_required
@require_POST
def person_export(request, pk):
    nomination = _nomination(pk)
    data = services.person_export(actor=request.user, nomination=nomination)
    return json_download(data, f"ecocycle-nomination-{nomination.pk}.json")


@staff_required
@require_POST
def person_erase(request, pk):
    nomination = _nomination(pk)
    form = ErasureForm(request.POST)
    if erasure_handle(form, lambda reason: services.person_erase(
            actor=request.user, nomination=nomination, reason=reason)):
        messages.success(request, _("The personal data of nomination #%(id)s was removed. The "
                                    "statistical record and the audit trail are kept, "
                                    "anonymised.") % {"id": nomination.pk})
        return redirect("staff_privacy:person", pk=nomination.pk)
    return render(request, "privacy/person.html",
                  _person_context(nomination, form), status=400)


# --- retention ----------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def retention(request):
    report = services.retention_apply(dry_run=True)
    return render(request, "privacy/retention.html", {
        **tabs("retention"), "report": report,
    })


@staff_required
@require_POST
def retention_apply(request):
    # Exactly the list staff were shown, or nothing: it may have changed since.
    expected = {int(value) for value in request.POST.getlist("expected") if value.isdigit()}
    try:
        report = services.retention_apply(dry_run=False, expected=expected)
    except JobBusy:
        messages.error(request, _("The retention job is running already. Look again in a few "
                                  "minutes."))
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        count = report.counts["nominations"]
        messages.success(request, ngettext(
            "The personal data of %(count)s nomination was removed.",
            "The personal data of %(count)s nominations was removed.", count,
        ) % {"count": count})
    return redirect("staff_privacy:retention")
