from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField
from knox.models import AbstractAuthToken


class TimeStampedModel(models.Model):
    """The base of every domain model: when a row was made and last changed."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True, role=User.Role.STAFF)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. Logs in by email; the role decides which doors are open."""

    class Role(models.TextChoices):
        STAFF = "staff", _("KITECH staff")
        COORDINATOR = "coordinator", _("University coordinator")
        MENTOR = "mentor", _("Mentor")

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Only KITECH staff are sent the daily digest (hub.digest): for anyone else it is never read.
    wants_staff_digest = models.BooleanField(_("receives the daily staff digest"), default=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_staff=False) | models.Q(role="staff"),
                name="user_admin_access_only_for_staff_role",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_kitech_staff(self) -> bool:
        return self.is_active and self.role == self.Role.STAFF and self.is_staff

    @property
    def is_coordinator(self) -> bool:
        return self.is_active and self.role == self.Role.COORDINATOR

    @property
    def is_mentor(self) -> bool:
        return self.is_active and self.role == self.Role.MENTOR


class AuditEntry(models.Model):
    """One state change: who did what to which record, when, and the values before and after.

    Written by the service that makes the change, inside the same transaction, so a change and
    its entry land together or not at all. Never edited afterwards.
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # Kept as text so the record still reads after the account is gone; "system" for jobs.
    actor_label = models.CharField(_("who (as recorded)"), max_length=254)
    action = models.CharField(_("what"), max_length=80, db_index=True)
    target_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(_("record id"), max_length=64)
    target_repr = models.CharField(_("record"), max_length=300)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        # In the viewer's zone, named (the admin's headings and lists show it).
        when = formats.date_format(timezone.localtime(self.created_at), "DATETIME_FORMAT") \
            if self.created_at else ""
        return f"{when} {self.actor_label} {self.action} {self.target_repr}"


class OutboundEmail(models.Model):
    """An email waiting to go out, or gone. The outbox survives a broker or SMTP outage.

    Services write the message here inside their transaction; a task sends it after commit, and
    the periodic flush sends whatever a down broker or mail server held back.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    topic = models.CharField(_("topic"), max_length=60, db_index=True)
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    # The signed links the bodies hold as "[[link:N]]", as a JSON list, encrypted; put back at
    # send time and cleared once sent (ecocycle.mail). Never shown in the admin.
    links = EncryptedTextField(_("links"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.topic} → {self.to} ({self.status})"


class JobLock(models.Model):
    """A lease that lets one copy of a job run at a time where advisory locks are missing."""

    name = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=32, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job lock")
        verbose_name_plural = _("job locks")

    def __str__(self) -> str:
        return f"{self.name} ({self.holder or 'free'})"


class ApiToken(AbstractAuthToken):
    """A REST API token: django-rest-knox's hashed, expiring token, plus when it was last used
    and a stamp of the password it was made under, so that a new password kills it."""

    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    password_stamp = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]
