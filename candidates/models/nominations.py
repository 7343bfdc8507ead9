"""Candidates and their nominations: preferences, related courses, documents, eligibility,
consent, and refused duplicates."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_fields.fields import EncryptedCharField

from ecocycle.models import TimeStampedModel
from programs.models import CoreTechnology, DegreeTrack, IntakeRound, Program, University


class EligibilityPolicy(TimeStampedModel):
    """A program's eligibility rules, applied on submit and again every night."""

    class Degree(models.TextChoices):
        BACHELOR = "bachelor", _("Bachelor's")
        MASTER = "master", _("Master's")

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="eligibility_policy",
        verbose_name=_("program"),
    )
    min_gpa = models.DecimalField(
        _("minimum normalised GPA (4.0 scale)"), max_digits=3, decimal_places=2, default=3.00
    )
    min_toefl_ibt = models.PositiveSmallIntegerField(
        _("minimum TOEFL iBT"), null=True, blank=True, default=80,
        help_text=_("Leave empty to not accept this test."),
    )
    min_ielts = models.DecimalField(
        _("minimum IELTS"), max_digits=2, decimal_places=1, null=True, blank=True, default=6.0,
        help_text=_("Leave empty to not accept this test."),
    )
    min_topik = models.PositiveSmallIntegerField(
        _("minimum TOPIK level"), null=True, blank=True, default=3,
        help_text=_("Leave empty to not accept this test."),
    )
    masters_requires = models.CharField(
        _("master's tracks require"), max_length=10, choices=Degree.choices,
        default=Degree.BACHELOR,
    )
    doctoral_requires = models.CharField(
        _("doctoral tracks require"), max_length=10, choices=Degree.choices, default=Degree.MASTER
    )
    integrated_requires = models.CharField(
        _("integrated tracks require"), max_length=10, choices=Degree.choices,
        default=Degree.BACHELOR,
    )
    min_related_courses = models.PositiveSmallIntegerField(
        _("minimum related courses"), default=2,
        help_text=_("Completed courses linked to the program's core technologies."),
    )

    class Meta:
        verbose_name = _("eligibility policy")
        verbose_name_plural = _("eligibility policies")

    def __str__(self) -> str:
        return str(self.program)


class Nomination(TimeStampedModel):
    """One partner university's nomination of one candidate for one intake round."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class DegreeStatus(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        EXPECTED = "expected", _("Expected")

    class GpaScale(models.TextChoices):
        FOUR = "4.0", _("4.0 points")
        FOUR_FIVE = "4.5", _("4.5 points")
        TEN = "10", _("10 points")
        HUNDRED = "100", _("100 points")

    class LanguageTest(models.TextChoices):
        TOEFL_IBT = "toefl_ibt", _("TOEFL iBT")
        IELTS = "ielts", _("IELTS")
        TOPIK = "topik", _("TOPIK")
        NONE = "none", _("None")

    intake_round = models.ForeignKey(
        IntakeRound, on_delete=models.PROTECT, related_name="nominations",
        verbose_name=_("intake round"),
    )
    university = models.ForeignKey(
        University, on_delete=models.PROTECT, related_name="nominations",
        verbose_name=_("university"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )

    # The person
    family_name = models.CharField(_("family name (Latin script)"), max_length=120)
    given_names = models.CharField(_("given names (Latin script)"), max_length=160, blank=True)
    native_name = models.CharField(
        _("name in native script"), max_length=200, blank=True,
        help_text=_("Only where it differs from the Latin spelling."),
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    nationality = CountryField(_("nationality"), blank=True)
    email = models.EmailField(_("candidate's email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    passport_number = EncryptedCharField(
        _("passport number"), max_length=40, blank=True, null=True
    )
    candidate_language = models.CharField(
        _("language for emails to the candidate"), max_length=8, choices=settings.LANGUAGES,
        default="en",
    )
    # Chosen by the candidate on their page; until then the nominating coordinator's is used.
    time_zone = models.CharField(_("candidate's time zone"), max_length=64, blank=True)

    # Studies
    degree = models.CharField(
        _("degree held or expected"), max_length=10, choices=EligibilityPolicy.Degree.choices,
        blank=True,
    )
    degree_status = models.CharField(
        _("degree status"), max_length=10, choices=DegreeStatus.choices, blank=True
    )
    major = models.CharField(_("major"), max_length=200, blank=True)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    gpa = models.DecimalField(_("GPA"), max_digits=5, decimal_places=2, null=True, blank=True)
    gpa_scale = models.CharField(_("GPA scale"), max_length=4, choices=GpaScale.choices, blank=True)
    gpa_normalised = models.DecimalField(
        _("GPA on a 4.0 scale"), max_digits=4, decimal_places=2, null=True, blank=True,
        editable=False,
    )

    # Language
    language_test = models.CharField(
        _("language test"), max_length=10, choices=LanguageTest.choices, blank=True
    )
    language_score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    language_test_date = models.DateField(_("test date"), null=True, blank=True)

    research_interests = models.TextField(_("research interests"), blank=True)
    university_rank = models.PositiveSmallIntegerField(
        _("university's own rank of this nominee"), null=True, blank=True,
        help_text=_("1 is your strongest nominee in this round."),
    )

    # Lifecycle
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    consent_requested_at = models.DateTimeField(_("consent requested"), null=True, blank=True)
    consent_reminded_at = models.DateTimeField(_("consent reminder sent"), null=True, blank=True)
    consent_given_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    # Set when the personal data was removed (retention period over, or erased on request).
    anonymised_at = models.DateTimeField(_("personal data removed"), null=True, blank=True)
    is_eligible = models.BooleanField(_("eligible"), null=True, blank=True)
    eligibility_reasons = models.JSONField(_("eligibility notes"), default=list, blank=True)
    eligibility_checked_at = models.DateTimeField(_("eligibility checked"), null=True, blank=True)

    # Keyed hashes of identity, for duplicate detection without reading encrypted values.
    passport_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    person_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    email_normalised = models.CharField(max_length=254, blank=True, editable=False)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["intake_round", "university", "university_rank", "family_name"]
        indexes = [
            models.Index(fields=["university", "intake_round", "status"]),
            # A coordinator's list, newest change first, a page at a time (issue 16).
            models.Index(fields=["university", "-updated_at", "-id"],
                         name="nomination_university_recent"),
        ]
        constraints = [
            # The last line of defence against the same person submitted twice in a round, even
            # when two submissions race.
            models.UniqueConstraint(
                fields=["intake_round", "passport_digest"],
                condition=models.Q(status="submitted") & ~models.Q(passport_digest=""),
                name="nomination_unique_passport_in_round",
            ),
            models.UniqueConstraint(
                fields=["intake_round", "email_normalised"],
                condition=models.Q(status="submitted") & ~models.Q(email_normalised=""),
                name="nomination_unique_email_in_round",
            ),
            models.UniqueConstraint(
                fields=["intake_round", "person_digest"],
                condition=models.Q(status="submitted") & ~models.Q(person_digest=""),
                name="nomination_unique_person_in_round",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or str(_("(unnamed nominee)"))

    @property
    def display_name(self) -> str:
        return " ".join(part for part in [self.given_names, self.family_name.upper()] if part)

    @property
    def passport_masked(self) -> str:
        value = self.passport_number or ""
        return "•" * max(len(value) - 3, 0) + value[-3:] if value else ""

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None


class NominationPreference(models.Model):
    """The candidate's ranked choice of a degree track in the round (rank 1 is first choice)."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="preferences",
        verbose_name=_("nomination"),
    )
    track = models.ForeignKey(
        DegreeTrack, on_delete=models.PROTECT, related_name="preferences",
        verbose_name=_("degree track"),
    )
    rank = models.PositiveSmallIntegerField(_("rank"))

    class Meta:
        verbose_name = _("track preference")
        verbose_name_plural = _("track preferences")
        ordering = ["nomination", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["nomination", "rank"], name="preference_unique_rank"),
            models.UniqueConstraint(fields=["nomination", "track"], name="preference_unique_track"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.track}"


class NominationCourse(models.Model):
    """A completed course related to the program, linked to the core technologies it covers."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="courses", verbose_name=_("nomination")
    )
    name = models.CharField(_("course"), max_length=200)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    technologies = models.ManyToManyField(
        CoreTechnology, blank=True, related_name="courses",
        verbose_name=_("related core technologies"),
    )

    class Meta:
        verbose_name = _("related course")
        verbose_name_plural = _("related courses")
        ordering = ["nomination", "id"]

    def __str__(self) -> str:
        return self.name


def document_upload_to(instance: "NominationDocument", filename: str) -> str:
    # Random, unguessable names; the original name is kept in a column, never in the path.
    return f"nominations/{instance.nomination_id}/{instance.sha256[:16]}-{instance.kind}"


class NominationDocument(TimeStampedModel):
    """An uploaded document. Served only through a permission-checked view."""

    class Kind(models.TextChoices):
        TRANSCRIPT = "transcript", _("Transcript")
        CV = "cv", _("CV")
        LANGUAGE_CERTIFICATE = "language_certificate", _("Language certificate")
        RECOMMENDATION = "recommendation", _("Recommendation letter")
        DIPLOMA = "diploma", _("Diploma or proof of enrolment")

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="documents",
        verbose_name=_("nomination"),
    )
    kind = models.CharField(_("document"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["nomination", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["nomination", "kind"], name="document_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class DuplicateAttempt(TimeStampedModel):
    """A refused submission of a person already nominated in the round, for staff to review."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="duplicate_attempts",
        verbose_name=_("refused nomination"),
    )
    existing = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("nomination already submitted"),
    )
    matched_on = models.CharField(_("matched on"), max_length=60)

    class Meta:
        verbose_name = _("duplicate nomination")
        verbose_name_plural = _("duplicate nominations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.nomination} ≈ {self.existing} ({self.matched_on})"
