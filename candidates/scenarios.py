"""The nominations part of the demo world: eligibility policies and, for each demo coordinator,
nominations in several states. Illustrative people with reserved-domain addresses; idempotent."""

import zlib
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ecocycle.services import model_create
from programs.models import IntakeRound, Program, RoundTrack
from programs.scenarios import (
    DECIDED_ROUNDS,
    MATCHING_ROUND_NAME,
    NOMINATED_AFTER_OPENING_DAYS,
    PAST_ROUND_NAME,
    PAST_ROUND_NOMINATED_DAYS_AGO,
    ROUND_NAME,
    matching_round_milestones,
)

from . import selectors, services
from .models import (
    Cohort,
    Coordinator,
    EligibilityPolicy,
    Nomination,
    Offer,
    ScoringPolicy,
)

# A minimal valid one-page PDF, so that demo documents open in a viewer (and pass the upload's
# parse: the cross-reference table's offsets are those of the objects above it).
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 53>>stream\nBT /F1 24 Tf 72 760 Td (ecocycle demo document) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"xref\n0 6\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \n0000000211 00000 n \n0000000310 00000 n \n"
    b"trailer<</Size 6/Root 1 0 R>>\nstartxref\n371\n%%EOF\n"
)

CANDIDATES = {
    "coordinator@itb.test": [
        # family, given, native, state, gpa, scale, test, score, language
        ("Santoso", "Dewi", "", "consented", "3.72", "4.0", "ielts", "7.0", "id"),
        ("Pratama", "Rizky", "", "submitted", "3.45", "4.0", "toefl_ibt", "92", "id"),
        ("Wulandari", "Sari", "", "consented", "86", "100", "ielts", "6.5", "id"),
        ("Hidayat", "Fajar", "", "ineligible", "2.70", "4.0", "toefl_ibt", "85", "id"),
        ("Kusuma", "Putri", "", "draft", "3.60", "4.0", "", "", "id"),
        ("Saputra", "Agus", "", "withdrawn", "3.10", "4.0", "ielts", "6.0", "id"),
    ],
    "coordinator@hust.test": [
        ("Nguyen", "Van An", "Nguyễn Văn An", "consented", "8.4", "10", "ielts", "6.5", "vi"),
        ("Tran", "Thi Mai", "Trần Thị Mai", "submitted", "3.50", "4.0", "toefl_ibt", "88", "vi"),
        ("Le", "Minh Duc", "Lê Minh Đức", "consented", "8.9", "10", "topik", "4", "vi"),
        ("Pham", "Thu Ha", "Phạm Thu Hà", "draft", "7.8", "10", "", "", "vi"),
        ("Hoang", "Quoc Bao", "Hoàng Quốc Bảo", "withdrawn", "3.20", "4.0", "ielts", "6.0", "vi"),
    ],
}

# The decided round: every candidate consented, and the cohort is approved.
PAST_CANDIDATES = {
    "coordinator@itb.test": [
        ("Nugroho", "Adi", "", "consented", "3.81", "4.0", "ielts", "7.5", "id"),
        ("Lestari", "Ayu", "", "consented", "3.66", "4.0", "toefl_ibt", "98", "id"),
        ("Wibowo", "Bima", "", "consented", "3.52", "4.0", "ielts", "6.5", "id"),
        ("Permata", "Intan", "", "consented", "3.40", "4.0", "toefl_ibt", "90", "id"),
    ],
    "coordinator@hust.test": [
        ("Vu", "Thanh Long", "Vũ Thanh Long", "consented", "8.7", "10", "ielts", "7.0", "vi"),
        ("Dang", "Thu Trang", "Đặng Thu Trang", "consented", "3.70", "4.0", "toefl_ibt", "95", "vi"),
        ("Bui", "Quang Huy", "Bùi Quang Huy", "consented", "8.2", "10", "ielts", "6.5", "vi"),
        ("Do", "Ngoc Anh", "Đỗ Ngọc Ánh", "consented", "3.55", "4.0", "topik", "4", "vi"),
    ],
}

# Earlier rounds' candidates: (family, given, native) per coordinator; every one consented.
EARLIER_PEOPLE = {
    "2023 Autumn": {
        "coordinator@itb.test": [("Halim", "Rudi", ""), ("Siregar", "Maya", ""),
                                 ("Gunawan", "Eko", ""), ("Rahmawati", "Nina", "")],
        "coordinator@hust.test": [("Ngo", "Bao Chau", "Ngô Bảo Châu"),
                                  ("Ly", "Minh Khoa", "Lý Minh Khoa"),
                                  ("Ha", "Thu Phuong", "Hà Thu Phương"),
                                  ("Trinh", "Van Nam", "Trịnh Văn Nam")],
    },
    "2025 Autumn": {
        "coordinator@itb.test": [("Susanto", "Hendra", ""), ("Anggraini", "Dian", ""),
                                 ("Setiawan", "Yoga", "")],
        "coordinator@hust.test": [("Mai", "Anh Tuan", "Mai Anh Tuấn"),
                                  ("Cao", "Thi Linh", "Cao Thị Linh"),
                                  ("Duong", "Quoc Viet", "Dương Quốc Việt")],
    },
}


# The round being matched: every candidate consented before nominations closed.
MATCHING_PEOPLE = {
    "coordinator@itb.test": [("Hartono", "Bayu", ""), ("Puspita", "Lina", ""),
                             ("Firmansyah", "Arif", "")],
    "coordinator@hust.test": [("Dinh", "Cong Minh", "Đinh Công Minh"),
                              ("Lam", "Thu Huong", "Lâm Thu Hương"),
                              ("Quach", "Van Tai", "Quách Văn Tài")],
}


# The course a demo candidate took for each core technology of the demo programs.
COURSE_NAMES = {
    "Palm-oil transesterification": "Reaction engineering",
    "Biodiesel quality control": "Instrumental analysis of fuels",
    "Heterogeneous catalysts for biofuels": "Heterogeneous catalysis",
    "Process scale-up and plant engineering": "Process design",
    "Palm-oil mill effluent valorisation": "Wastewater treatment",
    "Precision die casting": "Metal casting",
    "Injection mould design": "Polymer processing",
    "Casting and moulding simulation": "Finite element methods",
    "Surface treatment and plating": "Electrochemistry and plating",
    "Smart factory for moulding lines": "Industrial automation",
}
# Every third candidate of a coordinator's list took no course in what their tracks want.
OFF_TRACK_EVERY = 3


def _consented_rows(people: dict) -> dict:
    rows = {}
    for email, names in people.items():
        language = "id" if "itb" in email else "vi"
        rows[email] = [
            (family, given, native, "consented", f"3.{8 - i}", "4.0", "ielts", "7.0", language)
            for i, (family, given, native) in enumerate(names)]
    return rows


def _earlier_rows(round_name: str) -> dict:
    return _consented_rows(EARLIER_PEOPLE[round_name])


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@transaction.atomic
def build_policies() -> None:
    for program in Program.objects.filter(status=Program.Status.ACTIVE):
        if not ScoringPolicy.objects.filter(program=program).exists():
            model_create(model=ScoringPolicy, data={"program": program}, actor=None)
        if not EligibilityPolicy.objects.filter(program=program).exists():
            model_create(model=EligibilityPolicy, data={
                "program": program, "min_gpa": "3.00", "min_toefl_ibt": 80, "min_ielts": "6.0",
                "min_topik": 3, "min_related_courses": 1,
            }, actor=None)


def build_nominations(*, now=None) -> None:
    """Nominations in every state for each demo coordinator, in their program's open round."""
    now = now or timezone.now()
    build_policies()
    _build_round(CANDIDATES, ROUND_NAME, now)


def build_approved_cohorts(*, now=None) -> list[Cohort]:
    """The decided round of each demo program: consented nominations, matched and approved.

    The nominations are made as they were then, while that round took nominations.
    """
    now = now or timezone.now()
    build_policies()
    _build_round(PAST_CANDIDATES, PAST_ROUND_NAME,
                 now - timedelta(days=PAST_ROUND_NOMINATED_DAYS_AGO))
    cohorts = []
    for intake_round in IntakeRound.objects.filter(name=PAST_ROUND_NAME).order_by("id"):
        cohort = Cohort.objects.filter(intake_round=intake_round).first()
        if cohort is not None and cohort.status == Cohort.Status.APPROVED:
            cohorts.append(cohort)
            continue
        if not intake_round.nominations.exists():
            continue
        # Decided on the round's decisions date, as it happened (its offers are answered since).
        decided_at = now - timedelta(days=PAST_ROUND_DECIDED_DAYS_AGO)
        with transaction.atomic():
            if intake_round.program.name == RESERVE_PROGRAM:
                # One seat a track, so that some candidates wait on the reserve lists.
                RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
            services.cohort_match_run(intake_round=intake_round, trigger="command",
                                      now=decided_at)
            cohort = Cohort.objects.get(intake_round=intake_round)
            cohorts.append(services.cohort_approve(actor=None, cohort=cohort, now=decided_at))
    return cohorts


# How the decided round's candidates answered their offers, per program (the demo's Indonesian
# then Vietnamese cohort), in the order of their family names: accepted, declined, let the deadline
# pass, or were given more time by staff and still think it over. Then KITECH staff propose a
# second wave for the seats given back: in the Vietnamese program, whose round offered one seat a
# track, a candidate waits on the reserve list for it.
OFFER_STORIES = (("accept", "accept", "decline", "lapse"), ("accept", "decline", "extend"))
RESERVE_PROGRAM = "Vietnam precision casting and moulding for electronics parts"
PAST_ROUND_DECIDED_DAYS_AGO = 20


def build_offer_answers(*, actor, now=None) -> None:
    """The answers to the decided round's offers, dated as they came (see OFFER_STORIES), the
    lapse of the unanswered ones by the nightly job, and a proposed second wave. Idempotent:
    a round whose offers were answered is left alone."""
    now = now or timezone.now()
    decided_at = now - timedelta(days=PAST_ROUND_DECIDED_DAYS_AGO)
    cohorts = []
    for cohort in Cohort.objects.filter(intake_round__name=PAST_ROUND_NAME,
                                        status=Cohort.Status.APPROVED).select_related(
            "intake_round__program").order_by("id"):
        offers = list(Offer.objects.filter(cohort=cohort).select_related("nomination")
                      .order_by("nomination__family_name", "id"))
        if not offers or any(offer.status != Offer.Status.PENDING for offer in offers):
            continue
        story = OFFER_STORIES[len(cohorts) % len(OFFER_STORIES)]
        cohorts.append(cohort)
        for offer, answer in zip(offers, story, strict=False):
            if answer == "accept":
                services.offer_accept(offer=offer, now=decided_at + timedelta(days=5))
            elif answer == "decline":
                services.offer_decline(offer=offer, reason=Offer.DeclineReason.OTHER_OFFER,
                                       note="A scholarship at home came through.",
                                       now=decided_at + timedelta(days=8))
            elif answer == "extend":
                services.offer_extend(actor=actor, offer=offer, deadline=now + timedelta(days=10),
                                      reason="Waiting for the visa appointment.",
                                      now=decided_at + timedelta(days=12))
    # The nightly job, today: the offers not answered by their deadline lapse.
    services.offers_lapse(now=now)
    for cohort in cohorts:
        reserve = cohort.intake_round.program.name == RESERVE_PROGRAM
        if reserve and services.wave_refusal(cohort=cohort, now=now) is None:
            services.wave_propose(actor=actor, cohort=cohort, now=now)


def build_earlier_round(round_name: str, *, now=None) -> list[IntakeRound]:
    """An earlier round's nominations, all consented, and its cohort approved, dated as it
    happened; returns the rounds decided (one per program that has demo coordinators)."""
    now = now or timezone.now()
    build_policies()
    opened = now - timedelta(days=DECIDED_ROUNDS[round_name])
    _build_round(_earlier_rows(round_name), round_name,
                 opened + timedelta(days=NOMINATED_AFTER_OPENING_DAYS))
    decided = []
    for intake_round in IntakeRound.objects.filter(name=round_name).order_by("id"):
        if not intake_round.nominations.exists():
            continue
        with transaction.atomic():
            _decide(intake_round, opened + timedelta(days=100))
        decided.append(intake_round)
    return decided


def build_matching_round(*, now=None) -> list[IntakeRound]:
    """The round whose nominations have closed: its candidates nominated while it was open, and
    the matching run, so that staff have a proposal to review and approve. Idempotent."""
    now = now or timezone.now()
    build_policies()
    opened = matching_round_milestones(now)["nominations_open"]
    _build_round(_consented_rows(MATCHING_PEOPLE), MATCHING_ROUND_NAME,
                 opened + timedelta(days=NOMINATED_AFTER_OPENING_DAYS))
    matched = []
    for intake_round in IntakeRound.objects.filter(name=MATCHING_ROUND_NAME).order_by("id"):
        if intake_round.nominations.exists() and not intake_round.match_runs.exists():
            services.cohort_match_run(intake_round=intake_round, trigger="command", now=now)
            matched.append(intake_round)
    return matched


def _decide(intake_round: IntakeRound, when) -> None:
    cohort = Cohort.objects.filter(intake_round=intake_round).first()
    if cohort is not None and cohort.status == Cohort.Status.APPROVED:
        return
    services.cohort_match_run(intake_round=intake_round, trigger="command", now=when)
    services.cohort_approve(actor=None, cohort=Cohort.objects.get(intake_round=intake_round),
                            now=when)


def _build_round(candidates: dict, round_name: str, now) -> None:
    for email, rows in candidates.items():
        coordinator = Coordinator.objects.select_related("university", "user").filter(
            user__email=email).first()
        if coordinator is None:
            continue
        intake_round = IntakeRound.objects.filter(
            program__participations__university=coordinator.university, name=round_name,
        ).first()
        if intake_round is None or intake_round.phase_at(now) != IntakeRound.Phase.NOMINATIONS:
            continue
        for index, row in enumerate(rows):
            with transaction.atomic():
                _build_one(coordinator, intake_round, index, row, now)


def _courses(intake_round, tracks, index: int, state: str) -> list[dict]:
    """Two related courses (one for an ineligible candidate). Most candidates took courses in the
    core technologies their first tracks want, so their coursework fits; every third one
    (OFF_TRACK_EVERY) studied the program's other technologies, and their coursework fit is 0."""
    wanted = list(dict.fromkeys(
        technology for track in tracks for technology in track.wanted_technologies.order_by("id")))
    if index % OFF_TRACK_EVERY == OFF_TRACK_EVERY - 1:
        taken = list(intake_round.program.core_technologies.exclude(
            pk__in=[t.pk for t in wanted]).order_by("id"))
    else:
        taken = wanted
    taken = taken[:1] if state == "ineligible" else taken[:2]
    return [{"name": COURSE_NAMES.get(technology.name, technology.name),
             "grade": ("A", "A-")[i], "technologies": [technology]}
            for i, technology in enumerate(taken)]


def _build_one(coordinator, intake_round, index, row, now) -> None:
    family, given, native, state, gpa, scale, test, score, language = row
    candidate_email = f"{_slug(given)}.{_slug(family)}@student.example"
    if Nomination.objects.filter(intake_round=intake_round, email=candidate_email).exists():
        return
    actor = coordinator.user
    country = coordinator.university.country.code
    nomination = services.nomination_create(actor=actor, intake_round=intake_round,
                                            university=coordinator.university, now=now, data={
        "family_name": family, "given_names": given, "native_name": native,
        "date_of_birth": date(1999, 1, 15) + timedelta(days=97 * index + len(family) * 31),
        "nationality": country, "email": candidate_email, "phone": "+00 000 0000",
        "passport_number": f"{country}{zlib.crc32(candidate_email.encode()) % 10**7:07d}",
        "candidate_language": language,
        "degree": "bachelor", "degree_status": "completed",
        "major": "Chemical Engineering" if country == "ID" else "Mechanical Engineering",
        "institution": coordinator.university.name, "gpa": gpa, "gpa_scale": scale,
        "language_test": test or "none", "language_score": score or None,
        "language_test_date": (now.date() - timedelta(days=120 + 30 * index)) if test else None,
        "research_interests": "Process intensification for the program's core technologies.",
        "university_rank": index + 1,
    })
    if state == "draft":
        return
    tracks = list(intake_round.tracks.order_by("round_tracks__id")[index % 3: index % 3 + 3])
    services.nomination_set_preferences(actor=actor, nomination=nomination, tracks=tracks,
                                        now=now)
    services.nomination_set_courses(actor=actor, nomination=nomination, now=now,
                                    courses=_courses(intake_round, tracks, index, state))
    for kind in selectors.required_documents(nomination):
        document = ContentFile(DEMO_PDF, name=f"{kind}.pdf")
        services.document_upload(actor=actor, nomination=nomination, kind=kind, file=document,
                                 now=now)
    nomination = services.nomination_submit(actor=actor, nomination=nomination, now=now)
    if state == "consented":
        token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
        services.consent_confirm(token=token, now=now)
    elif state == "withdrawn":
        services.nomination_withdraw(actor=actor, nomination=nomination,
                                     reason="The candidate accepted another offer.", now=now)
