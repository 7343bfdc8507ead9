"""Bilateral programs, the partner universities that nominate for them, UST-KITECH degree
tracks, and intake rounds with their milestones."""

import itertools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from ecocycle.models import TimeStampedModel

# A KITECH degree track takes a handful of students per round; a thousand is far beyond any real
# track and keeps a typo (an extra zero or three) from reaching the matching engine.
MAX_TRACK_SEATS = 1000
# An offer's answer is due this many days after it is made, unless the round says otherwise.
DEFAULT_OFFER_RESPONSE_DAYS = 14
MAX_OFFER_RESPONSE_DAYS = 90


class University(TimeStampedModel):
    """A partner university whose coordinators nominate candidates."""

    name = models.CharField(_("name"), max_length=200)
    country = CountryField(_("country"))
    city = models.CharField(_("city"), max_length=120, blank=True)
    website = models.URLField(_("website"), blank=True)
    email_domain = models.CharField(
        _("email domain"), max_length=120, blank=True,
        help_text=_("Coordinators' addresses end with this, e.g. itb.ac.id."),
    )

    class Meta:
        verbose_name = _("partner university")
        verbose_name_plural = _("partner universities")
        ordering = ["country", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "country"], name="university_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Program(TimeStampedModel):
    """A bilateral industry program agreed between KITECH and one partner country."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200, unique=True)
    country = CountryField(_("partner country"))
    industry = models.CharField(_("industry"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    universities = models.ManyToManyField(
        University, through="ProgramUniversity", related_name="programs",
        verbose_name=_("partner universities"),
    )

    class Meta:
        verbose_name = _("bilateral program")
        verbose_name_plural = _("bilateral programs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CoreTechnology(TimeStampedModel):
    """A technology the program develops, e.g. palm-oil transesterification."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="core_technologies",
        verbose_name=_("program"),
    )
    name = models.CharField(_("name"), max_length=200)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True,
        help_text=_("Comma-separated words that courses and interests are matched on."),
    )

    class Meta:
        verbose_name = _("core technology")
        verbose_name_plural = _("core technologies")
        ordering = ["program", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="core_technology_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramUniversity(TimeStampedModel):
    """A university taking part in a program, with how many candidates it may nominate a round."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="participations", verbose_name=_("program")
    )
    university = models.ForeignKey(
        University, on_delete=models.PROTECT, related_name="participations",
        verbose_name=_("university"),
    )
    nomination_quota = models.PositiveIntegerField(
        _("nomination quota per round"), default=10
    )

    class Meta:
        verbose_name = _("participating university")
        verbose_name_plural = _("participating universities")
        ordering = ["program", "university__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "university"], name="program_university_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.university} — {self.program}"


class DegreeTrack(TimeStampedModel):
    """A UST-KITECH degree course in a KITECH research department, with its supervisor."""

    class Level(models.TextChoices):
        MASTERS = "masters", _("Master's")
        DOCTORAL = "doctoral", _("Doctoral")
        INTEGRATED = "integrated", _("Integrated master's-doctoral")

    class Campus(models.TextChoices):
        CHEONAN = "cheonan", _("Cheonan (headquarters)")
        ANSAN = "ansan", _("Ansan")
        INCHEON = "incheon", _("Incheon")
        GWANGJU = "gwangju", _("Gwangju")
        ULSAN = "ulsan", _("Ulsan")
        BUSAN = "busan", _("Busan")
        DAEGU = "daegu", _("Daegu")
        JEONBUK = "jeonbuk", _("Jeonbuk")
        GANGNEUNG = "gangneung", _("Gangneung")
        JINJU = "jinju", _("Jinju")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        KOREAN = "ko", _("Korean")

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="tracks", verbose_name=_("program")
    )
    level = models.CharField(_("degree level"), max_length=12, choices=Level.choices)
    major = models.CharField(_("major"), max_length=200)
    department = models.CharField(_("KITECH research department"), max_length=200)
    campus = models.CharField(_("campus"), max_length=12, choices=Campus.choices)
    supervisor_name = models.CharField(_("supervisor"), max_length=200)
    supervisor_email = models.EmailField(_("supervisor's email"))
    wanted_technologies = models.ManyToManyField(
        CoreTechnology, blank=True, related_name="tracks",
        verbose_name=_("wanted background (core technologies)"),
    )
    wanted_keywords = models.CharField(
        _("wanted background (keywords)"), max_length=300, blank=True,
        help_text=_("Comma-separated."),
    )
    language_of_instruction = models.CharField(
        _("language of instruction"), max_length=2, choices=Language.choices,
        default=Language.ENGLISH,
    )
    seats = models.PositiveIntegerField(
        _("seats per intake round"), default=2, validators=[MaxValueValidator(MAX_TRACK_SEATS)],
        help_text=_("The default; a round may offer a different number."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("degree track")
        verbose_name_plural = _("degree tracks")
        ordering = ["program", "department", "major", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "level", "major", "department"], name="degree_track_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.major} ({self.department})"


class IntakeRound(TimeStampedModel):
    """One intake of a program, e.g. "2027 Spring". Its phase follows from its milestones."""

    class Phase(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        NOMINATIONS = "nominations", _("Nominations open")
        SCREENING = "screening", _("Screening")
        MATCHING = "matching", _("Matching")
        DECISIONS = "decisions", _("Decisions")
        ENROLMENT = "enrolment", _("Enrolment")

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("program")
    )
    name = models.CharField(_("name"), max_length=100)
    preference_limit = models.PositiveSmallIntegerField(
        _("most tracks a candidate may rank"), default=3
    )
    offer_response_days = models.PositiveSmallIntegerField(
        _("days a candidate has to answer an offer"), default=DEFAULT_OFFER_RESPONSE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_OFFER_RESPONSE_DAYS)],
        help_text=_("From the day the offer is made; each wave's offers get their own deadline."),
    )
    tracks = models.ManyToManyField(
        DegreeTrack, through="RoundTrack", related_name="rounds", verbose_name=_("degree tracks")
    )

    class Meta:
        verbose_name = _("intake round")
        verbose_name_plural = _("intake rounds")
        ordering = ["program", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="intake_round_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program} — {self.name}"

    def milestone_dates(self) -> dict[str, object]:
        # Uses the prefetch cache when the selector has filled it.
        return {m.kind: m.at for m in self.milestones.all()}

    def phase_at(self, when=None) -> str:
        """The phase at `when` (default now): the latest milestone reached names it."""
        when = when or timezone.now()
        reached = [
            (at, MILESTONE_ORDER[kind], kind)
            for kind, at in self.milestone_dates().items()
            if at is not None and at <= when and kind in MILESTONE_PHASE
        ]
        if not reached:
            return self.Phase.UPCOMING
        # On equal dates the later milestone in the natural order wins.
        return MILESTONE_PHASE[max(reached)[2]]

    @property
    def phase(self) -> str:
        return self.phase_at()

    def get_phase_display(self) -> str:
        return str(self.Phase(self.phase).label)

    @property
    def nominations_close_at(self):
        return self.milestone_dates().get(RoundMilestone.Kind.NOMINATIONS_CLOSE)


class RoundMilestone(models.Model):
    """A dated step of a round; one row per kind, so phases are computed, not stored."""

    class Kind(models.TextChoices):
        NOMINATIONS_OPEN = "nominations_open", _("Nominations open")
        NOMINATIONS_CLOSE = "nominations_close", _("Nominations close")
        MATCHING = "matching", _("Matching")
        DECISIONS = "decisions", _("Decisions")
        ENROLMENT = "enrolment", _("Enrolment")
        # Optional and names no phase: after it no further wave of offers is proposed.
        LAST_WAVE = "last_wave", _("Last wave of offers")

    intake_round = models.ForeignKey(
        IntakeRound, on_delete=models.CASCADE, related_name="milestones",
        verbose_name=_("intake round"),
    )
    kind = models.CharField(_("milestone"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("date and time"))

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["intake_round", "at"]
        constraints = [
            models.UniqueConstraint(fields=["intake_round", "kind"], name="round_milestone_unique"),
        ]

    def __str__(self) -> str:
        # In the viewer's zone, named (the admin's headings and lists show it).
        when = formats.date_format(timezone.localtime(self.at), "DATETIME_FORMAT") \
            if self.at else ""
        return f"{self.get_kind_display()}: {when}"


# The milestones that start a phase, in their order; every round has all of them. The others
# (the last wave of offers) are optional and leave the phase alone.
PHASE_MILESTONES = [
    RoundMilestone.Kind.NOMINATIONS_OPEN, RoundMilestone.Kind.NOMINATIONS_CLOSE,
    RoundMilestone.Kind.MATCHING, RoundMilestone.Kind.DECISIONS, RoundMilestone.Kind.ENROLMENT,
]
MILESTONE_ORDER = {kind: index for index, kind in enumerate(PHASE_MILESTONES)}
MILESTONE_PHASE = {
    RoundMilestone.Kind.NOMINATIONS_OPEN: IntakeRound.Phase.NOMINATIONS,
    RoundMilestone.Kind.NOMINATIONS_CLOSE: IntakeRound.Phase.SCREENING,
    RoundMilestone.Kind.MATCHING: IntakeRound.Phase.MATCHING,
    RoundMilestone.Kind.DECISIONS: IntakeRound.Phase.DECISIONS,
    RoundMilestone.Kind.ENROLMENT: IntakeRound.Phase.ENROLMENT,
}


def validate_milestone_order(dates: dict[str, object]) -> None:
    """Milestones must follow each other in their natural order; all five phase milestones are
    required. The last wave of offers is optional: when set, after nominations close (a cohort
    can be approved from then) and before enrolment."""
    missing = [k for k in PHASE_MILESTONES if dates.get(k) is None]
    if missing:
        labels = ", ".join(str(RoundMilestone.Kind(k).label) for k in missing)
        raise ValidationError(_("Every milestone needs a date. Missing: %(labels)s."),
                              params={"labels": labels}, code="milestone_missing")
    ordered = list(PHASE_MILESTONES)
    for earlier, later in itertools.pairwise(ordered):
        if dates[earlier] >= dates[later]:
            raise ValidationError(
                _("“%(later)s” must come after “%(earlier)s”."),
                params={"later": RoundMilestone.Kind(later).label,
                        "earlier": RoundMilestone.Kind(earlier).label},
                code="milestone_order",
            )
    kind = RoundMilestone.Kind
    last_wave = dates.get(kind.LAST_WAVE)
    if (last_wave is not None
            and not dates[kind.NOMINATIONS_CLOSE] < last_wave < dates[kind.ENROLMENT]):
        raise ValidationError(
            _("“%(milestone)s” must come after “%(earlier)s” and before “%(later)s”."),
            params={"milestone": kind.LAST_WAVE.label, "earlier": kind.NOMINATIONS_CLOSE.label,
                    "later": kind.ENROLMENT.label},
            code="milestone_order",
        )


class RoundTrack(models.Model):
    """The seats a degree track offers in one intake round."""

    intake_round = models.ForeignKey(
        IntakeRound, on_delete=models.CASCADE, related_name="round_tracks",
        verbose_name=_("intake round"),
    )
    track = models.ForeignKey(
        DegreeTrack, on_delete=models.PROTECT, related_name="round_tracks",
        verbose_name=_("degree track"),
    )
    seats = models.PositiveIntegerField(
        _("seats"), validators=[MaxValueValidator(MAX_TRACK_SEATS)]
    )

    class Meta:
        verbose_name = _("track seats in a round")
        verbose_name_plural = _("track seats in the round")
        ordering = ["intake_round", "track"]
        constraints = [
            models.UniqueConstraint(fields=["intake_round", "track"], name="round_track_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.track}: {self.seats}"

    def clean(self) -> None:
        if self.track_id and self.intake_round_id and (
            self.track.program_id != self.intake_round.program_id
        ):
            raise ValidationError(
                {"track": _("This track belongs to another program than the round.")}
            )


class PartnerCompany(TimeStampedModel):
    """A Korean company in a program's industries that takes graduates: an SME in Korea that
    needs engineers here (on-shoring), or a Korean company in a partner country that needs
    local experts there (off-shoring)."""

    class Kind(models.TextChoices):
        ONSHORE = "onshore", _("In Korea (on-shoring)")
        OFFSHORE = "offshore", _("In a partner country (off-shoring)")

    class SizeBand(models.TextChoices):
        SMALL = "small", _("Small (fewer than 50 people)")
        MEDIUM = "medium", _("Medium (50 to 299 people)")
        LARGE = "large", _("Large (300 people or more)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    sector = models.CharField(_("sector"), max_length=200)
    size_band = models.CharField(_("size"), max_length=10, choices=SizeBand.choices)
    country = CountryField(_("country of the openings"))
    region = models.CharField(_("region or city"), max_length=120, blank=True)
    locations = models.CharField(_("locations"), max_length=300, blank=True,
                                 help_text=_("Sites, comma-separated."))
    programs = models.ManyToManyField(Program, blank=True, related_name="companies",
                                      verbose_name=_("programs (industries)"))
    technologies = models.ManyToManyField(CoreTechnology, blank=True, related_name="companies",
                                          verbose_name=_("core technologies needed"))
    skill_keywords = models.CharField(_("skills needed"), max_length=300, blank=True,
                                      help_text=_("Comma-separated."))
    openings_per_year = models.PositiveSmallIntegerField(_("openings per year"), default=1)
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact email"))
    contact_language = models.CharField(_("contact's language"), max_length=8,
                                        choices=settings.LANGUAGES, default="ko")
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner company")
        verbose_name_plural = _("partner companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sme(self) -> bool:
        return self.size_band in (self.SizeBand.SMALL, self.SizeBand.MEDIUM)
