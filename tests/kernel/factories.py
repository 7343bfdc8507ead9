import factory
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.utils import timezone

from ecocycle.models import User

DEFAULT_PASSWORD = "correct horse battery staple"
# Every staff factory user's authenticator app holds this secret (base32, as apps scan it).
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = STAFF_TOTP_SECRET) -> str:
    """The code an authenticator app shows now for `secret`."""
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    role = User.Role.COORDINATOR
    language = "en"
    password = factory.django.Password(DEFAULT_PASSWORD)


class StaffFactory(UserFactory):
    """KITECH staff, enrolled in two-factor sign-in (staff pages require it): pass `totp=False`
    for one who has not set it up yet."""

    class Meta:
        skip_postgeneration_save = True

    role = User.Role.STAFF
    is_staff = True
    is_superuser = True

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        enrolled = Authenticator.objects.filter(user=self, type=Authenticator.Type.TOTP)
        if create and extracted is not False and not enrolled.exists():
            TOTP.activate(self, STAFF_TOTP_SECRET)


class MentorUserFactory(UserFactory):
    role = User.Role.MENTOR
