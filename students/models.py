"""After admission: the student's progress, career introductions, and where alumni went.

The tables keep the names they had when these models lived in `candidates` (db_table), so that
moving them here copied no row."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from candidates.models import CohortAdmission, MatchRun, Nomination
from ecocycle.models import TimeStampedModel
from programs.models import DegreeTrack, PartnerCompany


class Enrolment(TimeStampedModel):
    """An admitted candidate as a UST-KITECH student, from enrolment to graduation.

    Its progress is a list of dated milestone rows (ProgressMilestone); `status` is where those
    milestones have brought the student, kept here so that pages and reports can filter on it.
    """

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        ON_LEAVE = "on_leave", _("On leave")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        GRADUATED = "graduated", _("Graduated")

    class CareerWish(models.TextChoices):
        UNDECIDED = "undecided", _("Undecided")
        STAY = "stay_korea", _("Stay in Korea")
        RETURN = "return_home", _("Return home")

    admission = models.OneToOneField(CohortAdmission, on_delete=models.PROTECT,
                                     related_name="enrolment", verbose_name=_("admission"))
    nomination = models.OneToOneField(Nomination, on_delete=models.PROTECT,
                                      related_name="enrolment", verbose_name=_("student"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ENROLLED, db_index=True)
    semester = models.CharField(_("first semester"), max_length=40,
                                help_text=_("e.g. 2027 Spring"))
    campus = models.CharField(_("campus"), max_length=12, choices=DegreeTrack.Campus.choices)
    supervisor_name = models.CharField(_("supervisor"), max_length=200)
    enrolled_on = models.DateField(_("enrolled on"))
    expected_graduation = models.DateField(_("expected graduation"), null=True, blank=True)
    thesis_title = models.CharField(_("thesis title"), max_length=300, blank=True)
    graduated_on = models.DateField(_("graduated on"), null=True, blank=True)
    degree_awarded = models.CharField(_("degree awarded"), max_length=12, blank=True,
                                      choices=DegreeTrack.Level.choices)
    career_wish = models.CharField(_("after graduation"), max_length=12,
                                   choices=CareerWish.choices, default=CareerWish.UNDECIDED)
    preferred_region = models.CharField(_("preferred region"), max_length=120, blank=True,
                                        help_text=_("Where the student would like to work."))

    class Meta:
        db_table = "candidates_enrolment"
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["nomination__family_name", "id"]

    def __str__(self) -> str:
        return f"{self.nomination} ({self.get_status_display()})"


class ProgressMilestone(models.Model):
    """One dated step of a student's progress. Rows, not date columns: a student may take
    leave twice, and new kinds of step need no migration of the enrolment."""

    class Kind(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        COURSEWORK_COMPLETED = "coursework", _("Coursework completed")
        THESIS_SUBMITTED = "thesis", _("Thesis submitted")
        LEAVE_STARTED = "leave_start", _("Leave of absence started")
        LEAVE_ENDED = "leave_end", _("Returned from leave")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        GRADUATED = "graduated", _("Graduated")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="milestones",
                                  verbose_name=_("enrolment"))
    kind = models.CharField(_("step"), max_length=12, choices=Kind.choices)
    on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        db_table = "candidates_progressmilestone"
        verbose_name = _("progress milestone")
        verbose_name_plural = _("progress milestones")
        ordering = ["enrolment", "on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.on}"


class CareerProposal(TimeStampedModel):
    """A partner company proposed for a student close to graduation, with the reasons why."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        INTRODUCED = "introduced", _("Introduced")
        DISMISSED = "dismissed", _("Dismissed")
        SUPERSEDED = "superseded", _("Superseded")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE,
                                  related_name="career_proposals", verbose_name=_("student"))
    company = models.ForeignKey(PartnerCompany, on_delete=models.CASCADE,
                                related_name="career_proposals", verbose_name=_("company"))
    match_run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="career_proposals",
                                  verbose_name=_("proposed by run"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PROPOSED, db_index=True)
    fit = models.DecimalField(_("fit"), max_digits=7, decimal_places=4)
    explanation = models.JSONField(_("why"), default=dict, blank=True)
    introduced_at = models.DateTimeField(_("introduced"), null=True, blank=True)
    introduced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+",
                                      verbose_name=_("introduced by"))

    class Meta:
        db_table = "candidates_careerproposal"
        verbose_name = _("career proposal")
        verbose_name_plural = _("career proposals")
        ordering = ["enrolment", "-fit", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "company"],
                condition=models.Q(status__in=["proposed", "introduced"]),
                name="career_proposal_one_live_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.nomination} → {self.company} ({self.status})"


class AlumniOutcome(TimeStampedModel):
    """Where a graduate went: stayed in Korea, returned home, or other. Kept current by staff
    and by the alumnus through a yearly emailed link."""

    class Path(models.TextChoices):
        STAYED = "stayed_korea", _("Stayed in Korea")
        RETURNED = "returned_home", _("Returned home")
        OTHER = "other", _("Other")

    class EmployerType(models.TextChoices):
        SME = "sme", _("Small or medium-sized company")
        LARGE = "large_company", _("Large company")
        RESEARCH = "research_institute", _("Research institute")
        UNIVERSITY = "university", _("University")
        PUBLIC = "public", _("Government or public body")
        OTHER = "other", _("Other")

    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="outcome",
                                     verbose_name=_("graduate"))
    path = models.CharField(_("path"), max_length=14, choices=Path.choices)
    organisation = models.CharField(_("employer or organisation"), max_length=200, blank=True)
    employer_type = models.CharField(_("type of employer"), max_length=20, blank=True,
                                     choices=EmployerType.choices)
    country = CountryField(_("country"), blank=True)
    region = models.CharField(_("region or city"), max_length=120, blank=True)
    cooperating_company = models.ForeignKey(
        PartnerCompany, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="cooperating_alumni", verbose_name=_("Korean company cooperated with"))
    cooperating_company_name = models.CharField(
        _("Korean company cooperated with (if not listed)"), max_length=200, blank=True)
    as_of = models.DateField(_("as of"))
    offers_to_mentor = models.BooleanField(_("offers to mentor"), default=False)
    offers_partner_contact = models.BooleanField(_("offers to be a partner-side contact"),
                                                 default=False)
    update_requested_at = models.DateTimeField(_("update requested"), null=True, blank=True)
    updated_by_alumnus_at = models.DateTimeField(_("updated by the alumnus"), null=True,
                                                 blank=True)

    class Meta:
        db_table = "candidates_alumnioutcome"
        verbose_name = _("alumni outcome")
        verbose_name_plural = _("alumni outcomes")
        ordering = ["-as_of", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment.nomination}: {self.get_path_display()}"
