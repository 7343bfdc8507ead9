"""A program's eligibility rules applied to one nomination.

Pure: reads the nomination, its courses and preferences as loaded, and the policy; writes
nothing. Reasons are stored as codes with parameters and turned into sentences in the reader's
language when shown, so a coordinator in Jakarta and staff in Cheonan read the same reason.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from programs.models import DegreeTrack

from .models import EligibilityPolicy, Nomination

LANGUAGE_CERTIFICATE_VALIDITY = timedelta(days=730)

GPA_SCALE_MAX = {"4.0": Decimal("4.0"), "4.5": Decimal("4.5"), "10": Decimal("10"),
                 "100": Decimal("100")}

DEGREE_ORDER = {EligibilityPolicy.Degree.BACHELOR: 1, EligibilityPolicy.Degree.MASTER: 2}


def gpa_normalise(gpa: Decimal | None, scale: str) -> Decimal | None:
    """The GPA on a 4.0 scale, linearly, rounded half up to two decimals."""
    if gpa is None or scale not in GPA_SCALE_MAX:
        return None
    value = Decimal(gpa) / GPA_SCALE_MAX[scale] * Decimal("4.0")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def language_certificate_expired(test: str, test_date: date | None, today: date) -> bool:
    return (
        test not in ("", Nomination.LanguageTest.NONE)
        and test_date is not None
        and test_date < today - LANGUAGE_CERTIFICATE_VALIDITY
    )


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reasons: list[dict] = field(default_factory=list)
    ineligible_track_ids: frozenset[int] = frozenset()


def _reason(code: str, **params) -> dict:
    return {"code": code, "params": params}


def _required_degree(policy: EligibilityPolicy, level: str) -> str:
    return {
        DegreeTrack.Level.MASTERS: policy.masters_requires,
        DegreeTrack.Level.DOCTORAL: policy.doctoral_requires,
        DegreeTrack.Level.INTEGRATED: policy.integrated_requires,
    }[level]


@dataclass(frozen=True)
class EligibilityFacts:
    """What the rules read of one nomination, as plain values (the nightly job reads them in
    bulk). `preferences` are its ranked tracks in rank order: (track id, level, name)."""

    gpa_normalised: Decimal | None
    language_test: str
    language_score: Decimal | None
    language_test_date: date | None
    degree: str
    related_courses: int
    preferences: tuple[tuple[int, str, str], ...]


def evaluate(
    nomination: Nomination, policy: EligibilityPolicy | None, *, today: date,
    preferences=None, courses=None,
) -> EligibilityResult:
    """Apply the policy to one nomination. `preferences` and `courses` may be passed pre-loaded;
    otherwise they are read from the nomination's related managers."""
    preferences = list(nomination.preferences.all()) if preferences is None else preferences
    courses = list(nomination.courses.all()) if courses is None else courses
    return evaluate_facts(EligibilityFacts(
        gpa_normalised=nomination.gpa_normalised, language_test=nomination.language_test,
        language_score=nomination.language_score,
        language_test_date=nomination.language_test_date, degree=nomination.degree,
        related_courses=sum(1 for course in courses if course.technologies.all()),
        preferences=tuple((p.track_id, p.track.level, str(p.track)) for p in preferences),
    ), policy, today=today)


def evaluate_facts(facts: EligibilityFacts, policy: EligibilityPolicy | None, *,
                   today: date) -> EligibilityResult:
    """Apply the policy.

    A nomination is eligible when it passes the general rules and at least one ranked track
    accepts its degree; tracks whose degree requirement it misses are listed and not matched.
    O(ranked tracks); no query.
    """
    policy = policy or EligibilityPolicy()
    reasons: list[dict] = []

    if facts.gpa_normalised is None:
        reasons.append(_reason("gpa_missing"))
    elif facts.gpa_normalised < policy.min_gpa:
        reasons.append(_reason("gpa_low", gpa=str(facts.gpa_normalised),
                               minimum=str(policy.min_gpa)))

    minimums = {
        Nomination.LanguageTest.TOEFL_IBT: policy.min_toefl_ibt,
        Nomination.LanguageTest.IELTS: policy.min_ielts,
        Nomination.LanguageTest.TOPIK: policy.min_topik,
    }
    test = facts.language_test
    if test in ("", Nomination.LanguageTest.NONE):
        reasons.append(_reason("language_none"))
    elif minimums.get(test) is None:
        reasons.append(_reason("language_not_accepted", test=test))
    elif facts.language_score is None or facts.language_score < minimums[test]:
        reasons.append(_reason("language_low", test=test,
                               score=str(facts.language_score or 0),
                               minimum=str(minimums[test])))
    if language_certificate_expired(test, facts.language_test_date, today):
        reasons.append(_reason("language_expired", date=facts.language_test_date.isoformat()))

    if facts.related_courses < policy.min_related_courses:
        reasons.append(_reason("courses_few", count=facts.related_courses,
                               minimum=policy.min_related_courses))

    ineligible_tracks = set()
    have = DEGREE_ORDER.get(facts.degree, 0)
    required: dict[str, str] = {}
    for track_id, level, name in facts.preferences:
        needed = required.get(level) or required.setdefault(level,
                                                            _required_degree(policy, level))
        if have < DEGREE_ORDER[needed]:
            ineligible_tracks.add(track_id)
            reasons.append(_reason("degree_track", track=name, track_id=track_id,
                                   needed=needed))
    if facts.preferences and len(ineligible_tracks) == len(facts.preferences):
        reasons.append(_reason("no_track_left"))
    if not facts.preferences:
        reasons.append(_reason("no_preferences"))

    blocking = [r for r in reasons if r["code"] != "degree_track"]
    return EligibilityResult(
        eligible=not blocking, reasons=reasons, ineligible_track_ids=frozenset(ineligible_tracks)
    )


def reason_text(reason: dict) -> str:
    """One stored reason as a sentence in the active language."""
    p = dict(reason.get("params", {}))
    code = reason.get("code")
    if "test" in p:
        p["test"] = str(Nomination.LanguageTest(p["test"]).label) if p["test"] in (
            Nomination.LanguageTest.values) else p["test"]
    if "needed" in p:
        p["needed"] = str(EligibilityPolicy.Degree(p["needed"]).label)
    texts = {
        "gpa_missing": _("No GPA is given."),
        "gpa_low": _("The GPA is %(gpa)s on a 4.0 scale; the program requires at least "
                     "%(minimum)s."),
        "language_none": _("No language test result is given; the program requires one."),
        "language_not_accepted": _("The program does not accept %(test)s."),
        "language_low": _("The %(test)s score %(score)s is below the program's minimum of "
                          "%(minimum)s."),
        "language_expired": _("The language certificate of %(date)s is more than two years "
                              "old."),
        "courses_few": _("%(count)s completed course(s) are linked to the program's core "
                         "technologies; at least %(minimum)s are required."),
        "degree_track": _("Not eligible for %(track)s: it requires a %(needed)s degree."),
        "no_track_left": _("None of the ranked degree tracks accepts the candidate's degree."),
        "no_preferences": _("No degree track is ranked."),
    }
    text = texts.get(code)
    if text is None:
        return str(code)
    try:
        return text % p
    except (KeyError, TypeError, ValueError):
        return text
