"""What the candidates services share: field groups, the deadline check, row locks."""

import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ecocycle.exceptions import DomainError
from ecocycle.tokens import (
    lookup_digest,
)
from programs.calendar import moment, nominations_closed
from programs.models import IntakeRound, ProgramUniversity, University

from .. import documents as document_types
from .. import eligibility
from ..models import (
    Nomination,
)

PERSON_FIELDS = [
    "family_name", "given_names", "native_name", "date_of_birth", "nationality", "email", "phone",
    "passport_number", "candidate_language",
]
STUDIES_FIELDS = ["degree", "degree_status", "major", "institution", "gpa", "gpa_scale"]
LANGUAGE_FIELDS = ["language_test", "language_score", "language_test_date"]
OTHER_FIELDS = ["research_interests", "university_rank"]
EDITABLE_FIELDS = PERSON_FIELDS + STUDIES_FIELDS + LANGUAGE_FIELDS + OTHER_FIELDS

REQUIRED_FIELDS = {
    "person": ["family_name", "date_of_birth", "nationality", "email", "passport_number"],
    "studies": ["degree", "degree_status", "major", "institution", "gpa", "gpa_scale"],
    "language": ["language_test"],
    "preferences": ["university_rank"],
}
ALLOWED_CONTENT_TYPES = document_types.ALLOWED_CONTENT_TYPES


# --- helpers ------------------------------------------------------------------------------------

def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _normalise_name(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(sorted(ascii_only.casefold().split()))


def _identity_fields(nomination: Nomination) -> dict[str, str]:
    passport = "".join(ch for ch in (nomination.passport_number or "").upper() if ch.isalnum())
    person = ""
    if nomination.family_name and nomination.date_of_birth:
        name = _normalise_name(f"{nomination.given_names} {nomination.family_name}")
        person = lookup_digest(f"{name}|{nomination.date_of_birth.isoformat()}")
    return {
        "passport_digest": lookup_digest(passport),
        "person_digest": person,
        "email_normalised": (nomination.email or "").strip().lower(),
    }


def nomination_derived_fields(nomination: Nomination) -> dict[str, Any]:
    """The fields computed from what was typed: identity digests (duplicate checks) and the
    normalised GPA. Every save of a nomination sets them."""
    return {
        **_identity_fields(nomination),
        "gpa_normalised": eligibility.gpa_normalise(nomination.gpa, nomination.gpa_scale),
    }


# Kept for services/nominations.py until it imports the public name.


def _coerce(data: Mapping[str, Any]) -> dict[str, Any]:
    """The editable fields of `data` as their Python types, or per-field errors."""
    values, errors = {}, {}
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            continue
        try:
            values[name] = Nomination._meta.get_field(name).to_python(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise DomainError(errors)
    return values


def _check_gpa(data: Mapping[str, Any]) -> None:
    gpa, scale = data.get("gpa"), data.get("gpa_scale")
    if gpa is not None and scale in eligibility.GPA_SCALE_MAX:
        top = eligibility.GPA_SCALE_MAX[scale]
        if gpa < 0 or gpa > top:
            raise DomainError({"gpa": _("On a %(scale)s-point scale the GPA must be between 0 and "
                                        "%(scale)s.") % {"scale": scale}})


# Plausible ages for a nominee to a graduate program: nobody younger than 14 holds the
# bachelor's degree it needs, and nobody is 100 or older; outside them is a typing error
# (year 1, the current year, 0202 for 2002) that would also spoil the duplicate check.
YOUNGEST_AGE, OLDEST_AGE = 14, 100


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


def _check_date_of_birth(data: Mapping[str, Any], today: date) -> None:
    born = data.get("date_of_birth")
    earliest, latest = _years_before(today, OLDEST_AGE), _years_before(today, YOUNGEST_AGE)
    if born and not earliest < born <= latest:
        raise DomainError({"date_of_birth": _(
            "Check the date of birth: a candidate is born between %(earliest)s and %(latest)s "
            "(at least %(youngest)s and under %(oldest)s years old)."
        ) % {"earliest": earliest.isoformat(), "latest": latest.isoformat(),
             "youngest": YOUNGEST_AGE, "oldest": OLDEST_AGE}})


def _check_language_date(data: Mapping[str, Any], today) -> None:
    test_date = data.get("language_test_date")
    if test_date and test_date > today:
        raise DomainError({"language_test_date": _("The test date cannot be in the future.")})
    if eligibility.language_certificate_expired(data.get("language_test", ""), test_date, today):
        raise DomainError({"language_test_date": _(
            "This certificate is from %(date)s: language certificates older than two years are "
            "not valid. Ask the candidate for a newer result."
        ) % {"date": test_date.isoformat()}})


def _ensure_nominations_open(intake_round: IntakeRound, now: datetime) -> None:
    phase = intake_round.phase_at(now)
    if phase == IntakeRound.Phase.UPCOMING:
        raise DomainError(_("Nominations for %(round)s are not open yet.") % {
            "round": intake_round})
    if phase != IntakeRound.Phase.NOMINATIONS:
        close = intake_round.nominations_close_at
        raise DomainError(_(
            "The nomination deadline for %(round)s has passed (%(close)s). Nominations can no "
            "longer be created, changed or submitted."
        ) % {"round": intake_round, "close": moment(close) if close else ""})


def nominations_open_check(*, intake_round: IntakeRound, now: datetime | None = None) -> None:
    """Raise DomainError unless `intake_round` takes nominations at `now`."""
    _ensure_nominations_open(intake_round, _now(now))


def _nominations_closed_refusal(intake_round: IntakeRound, now: datetime,
                                message: str) -> str | None:
    """None once the round's nominations have closed; else `message` (with %(round)s and
    %(close)s) filled in: what waits for the close, and when that is."""
    if nominations_closed(intake_round, now):
        return None
    return message % {"round": intake_round, "close": moment(intake_round.nominations_close_at)}


def _ensure_editable(nomination: Nomination, now: datetime) -> None:
    if nomination.status == Nomination.Status.WITHDRAWN:
        raise DomainError(_("This nomination was withdrawn and can no longer be changed."))
    _ensure_nominations_open(nomination.intake_round, now)


def _participation(intake_round: IntakeRound, university: University) -> ProgramUniversity:
    participation = ProgramUniversity.objects.filter(
        program_id=intake_round.program_id, university=university
    ).first()
    if participation is None:
        raise DomainError(_("%(university)s does not take part in %(program)s.") % {
            "university": university, "program": intake_round.program})
    return participation


def _locked(nomination: Nomination) -> Nomination:
    """The nomination re-read under a row lock.

    The caller's round object is reused when it has one: its milestones may already be loaded,
    and the deadline check would otherwise read them again for every call.
    """
    locked = (
        Nomination.objects.select_for_update()
        .select_related("intake_round__program", "university")
        .get(pk=nomination.pk)
    )
    cached = nomination._state.fields_cache.get("intake_round")
    if cached is not None and cached.pk == locked.intake_round_id:
        locked.intake_round = cached
    return locked
