"""Student progress from admission to graduation: enrolment, dated milestones, bulk updates.

Each step is a ProgressMilestone row; the enrolment's status follows from the steps allowed:

    enrolled ──coursework / thesis──▶ enrolled
    enrolled ──leave_start──▶ on_leave ──leave_end──▶ enrolled
    enrolled | on_leave ──withdrawn──▶ withdrawn (final)
    enrolled ──graduated──▶ graduated (final; needs the thesis title and the degree)

Every change is audited. A bulk update applies one step to many students all or nothing: every
student is checked first, and one refusal refuses the whole batch, naming each student.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import CohortAdmission
from candidates.selectors import admission_taken_up
from ecocycle.exceptions import DomainError
from ecocycle.models import User
from ecocycle.services import audit_entry_create, model_update

from ..models import Enrolment, ProgressMilestone

Kind = ProgressMilestone.Kind
Status = Enrolment.Status

# step → (statuses it may follow, status it leads to; None keeps the status)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    Kind.COURSEWORK_COMPLETED: (frozenset({Status.ENROLLED}), None),
    Kind.THESIS_SUBMITTED: (frozenset({Status.ENROLLED}), None),
    Kind.LEAVE_STARTED: (frozenset({Status.ENROLLED}), Status.ON_LEAVE),
    Kind.LEAVE_ENDED: (frozenset({Status.ON_LEAVE}), Status.ENROLLED),
    Kind.WITHDRAWN: (frozenset({Status.ENROLLED, Status.ON_LEAVE}), Status.WITHDRAWN),
    Kind.GRADUATED: (frozenset({Status.ENROLLED}), Status.GRADUATED),
}
# Steps that happen once in a student's life.
ONCE = frozenset({Kind.COURSEWORK_COMPLETED, Kind.THESIS_SUBMITTED, Kind.GRADUATED})
# Fields a step may set on the enrolment at the same time.
STEP_FIELDS = {
    Kind.THESIS_SUBMITTED: ("thesis_title",),
    Kind.GRADUATED: ("thesis_title",),
}
EDITABLE_FIELDS = ["semester", "campus", "supervisor_name", "expected_graduation",
                   "thesis_title", "career_wish", "preferred_region"]


def _today(now: datetime | None) -> date:
    return timezone.localdate(now or timezone.now())


@transaction.atomic
def enrolment_create(
    *, actor: User | None, admission: CohortAdmission, semester: str, enrolled_on: date,
    expected_graduation: date | None = None, now: datetime | None = None,
) -> Enrolment:
    """Enrol an admitted candidate who accepted their offer; campus and supervisor come from
    the admitted track."""
    if Enrolment.objects.filter(admission=admission).exists():
        raise DomainError(_("%(name)s is already enrolled.") % {"name": admission.nomination})
    if admission.cohort.status != "approved":
        raise DomainError(_("Only candidates of an approved cohort can be enrolled."))
    if not admission_taken_up(admission):
        raise DomainError(_("%(name)s has not accepted the offer of a place: only a candidate "
                            "who accepted can be enrolled.") % {"name": admission.nomination})
    if enrolled_on > _today(now):
        raise DomainError({"enrolled_on": _("The enrolment date cannot be in the future.")})
    track = admission.track
    enrolment = Enrolment(
        admission=admission, nomination_id=admission.nomination_id, semester=semester.strip(),
        campus=track.campus, supervisor_name=track.supervisor_name, enrolled_on=enrolled_on,
        expected_graduation=expected_graduation,
    )
    enrolment.full_clean()
    enrolment.save()
    ProgressMilestone.objects.create(enrolment=enrolment, kind=Kind.ENROLLED, on=enrolled_on,
                                     recorded_by=actor if actor and actor.pk else None)
    audit_entry_create(actor=actor, action="enrolment_create", target=enrolment,
                       after={"status": enrolment.status, "semester": enrolment.semester,
                              "enrolled_on": enrolled_on.isoformat(),
                              "track": track.pk})
    return enrolment


@transaction.atomic
def enrolment_create_many(
    *, actor: User | None, admissions: Iterable[CohortAdmission], semester: str,
    enrolled_on: date, expected_graduation: date | None = None, now: datetime | None = None,
) -> list[Enrolment]:
    """Enrol many admitted candidates at once, all or nothing."""
    admissions = list(admissions)
    if not admissions:
        raise DomainError(_("Choose at least one student."))
    if not (semester or "").strip():
        raise DomainError({"semester": _("Give the first semester, e.g. 2027 Spring.")})
    enrolled, problems = [], []
    for admission in admissions:
        try:
            with transaction.atomic():
                enrolled.append(enrolment_create(
                    actor=actor, admission=admission, semester=semester,
                    enrolled_on=enrolled_on, expected_graduation=expected_graduation, now=now))
        except DomainError as error:
            problems.extend(error.messages)
    if problems:
        raise DomainError([_("Nothing was changed."), *dict.fromkeys(problems)])
    return enrolled


def _check_step(enrolment: Enrolment, kind: str, on: date, values: Mapping[str, Any],
                today: date, done: set[str]) -> list[str]:
    """Why `kind` cannot be recorded for `enrolment`, as sentences (empty: it can)."""
    problems = []
    if kind not in TRANSITIONS:
        return [_("Choose a step of the student's progress.")]
    allowed, _next = TRANSITIONS[kind]
    if enrolment.status not in allowed:
        problems.append(_("%(name)s is %(status)s: “%(step)s” cannot be recorded now.") % {
            "name": enrolment.nomination, "status": enrolment.get_status_display().lower(),
            "step": Kind(kind).label})
    if kind in ONCE and kind in done:
        problems.append(_("“%(step)s” is already recorded for %(name)s.") % {
            "step": Kind(kind).label, "name": enrolment.nomination})
    if on > today:
        problems.append(_("The date cannot be in the future."))
    if on < enrolment.enrolled_on:
        problems.append(_("The date cannot be before the enrolment (%(date)s).") % {
            "date": enrolment.enrolled_on.isoformat()})
    if kind == Kind.GRADUATED:
        if not (values.get("thesis_title") or enrolment.thesis_title):
            problems.append(_("Give the thesis title of %(name)s to record a graduation.") % {
                "name": enrolment.nomination})
        if not _degree(enrolment, values):
            problems.append(_("Give the degree awarded to %(name)s (the track is an integrated "
                              "course).") % {"name": enrolment.nomination})
    return problems


def _degree(enrolment: Enrolment, values: Mapping[str, Any]) -> str:
    """The degree a graduation awards: as given, else the track's own level unless integrated."""
    level = enrolment.admission.track.level
    return values.get("degree_awarded") or ("" if level == "integrated" else level)


def _apply_step(enrolment: Enrolment, kind: str, on: date, values: Mapping[str, Any],
                note: str, actor: User | None) -> None:
    before = {"status": enrolment.status}
    _allowed, next_status = TRANSITIONS[kind]
    changed = []
    if next_status and next_status != enrolment.status:
        enrolment.status = next_status
        changed.append("status")
    for name in STEP_FIELDS.get(kind, ()):
        value = values.get(name)
        if value and value != getattr(enrolment, name):
            before[name] = getattr(enrolment, name)
            setattr(enrolment, name, value)
            changed.append(name)
    if kind == Kind.GRADUATED:
        enrolment.graduated_on, enrolment.degree_awarded = on, _degree(enrolment, values)
        changed += ["graduated_on", "degree_awarded"]
    if changed:
        enrolment.save(update_fields=[*changed, "updated_at"])
    ProgressMilestone.objects.create(enrolment=enrolment, kind=kind, on=on, note=note,
                                     recorded_by=actor if actor and actor.pk else None)
    audit_entry_create(actor=actor, action=f"enrolment_{kind}", target=enrolment, before=before,
                       after={"status": enrolment.status, "on": on.isoformat(), "note": note,
                              **{name: getattr(enrolment, name) for name in changed
                                 if name != "status"}})


def _locked(ids: Iterable[int]) -> list[Enrolment]:
    return list(Enrolment.objects.select_for_update(of=("self",))
                .select_related("nomination", "admission__track").filter(pk__in=list(ids))
                .order_by("id"))


def _done_steps(enrolments: list[Enrolment]) -> dict[int, set[str]]:
    done: dict[int, set[str]] = {e.pk: set() for e in enrolments}
    for enrolment_id, kind in ProgressMilestone.objects.filter(
            enrolment__in=enrolments).values_list("enrolment_id", "kind"):
        done[enrolment_id].add(kind)
    return done


@transaction.atomic
def enrolment_record(
    *, actor: User | None, enrolment: Enrolment, kind: str, on: date, note: str = "",
    values: Mapping[str, Any] | None = None, now: datetime | None = None,
) -> Enrolment:
    """Record one step of one student's progress (see the module's diagram)."""
    values = values or {}
    (locked,) = _locked([enrolment.pk])
    problems = _check_step(locked, kind, on, values, _today(now), _done_steps([locked])[locked.pk])
    if problems:
        raise DomainError(problems)
    _apply_step(locked, kind, on, values, (note or "").strip(), actor)
    return locked


@transaction.atomic
def enrolment_record_many(
    *, actor: User | None, enrolments: Iterable[Enrolment], kind: str, on: date,
    note: str = "", values: Mapping[str, Any] | None = None, now: datetime | None = None,
) -> list[Enrolment]:
    """Record the same step for many students, all or nothing."""
    values = values or {}
    locked = _locked(e.pk for e in enrolments)
    if not locked:
        raise DomainError(_("Choose at least one student."))
    today, done = _today(now), _done_steps(locked)
    problems = [problem for enrolment in locked
                for problem in _check_step(enrolment, kind, on, values, today, done[enrolment.pk])]
    if problems:
        raise DomainError([_("Nothing was changed."), *dict.fromkeys(problems)])
    for enrolment in locked:
        _apply_step(enrolment, kind, on, values, (note or "").strip(), actor)
    return locked


@transaction.atomic
def enrolment_update(*, actor: User | None, enrolment: Enrolment,
                     data: Mapping[str, Any]) -> Enrolment:
    """Change the enrolment's details (not its status: that follows the recorded steps)."""
    fresh = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    fresh, _changed = model_update(instance=fresh, actor=actor, data={
        k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    return fresh
