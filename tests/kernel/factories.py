import factory

from ecocycle.models import User

DEFAULT_PASSWORD = "correct horse battery staple"


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
    role = User.Role.STAFF
    is_staff = True
    is_superuser = True


class MentorUserFactory(UserFactory):
    role = User.Role.MENTOR
