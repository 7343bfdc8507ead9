"""Build the demo world on an empty or existing database; running it twice changes nothing."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django.db import transaction

from candidates.models import Coordinator
from candidates.scenarios import (
    build_approved_cohorts,
    build_matching_round,
    build_nominations,
    build_offer_answers,
)
from candidates.services import coordinator_create
from ecocycle.models import User
from ecocycle.services import model_update, user_create
from mentors.scenarios import build_alumni_mentors, build_invitations, build_mentors
from programs.models import University
from programs.scenarios import build_companies, build_programs
from students.scenarios import build_career_proposals, build_cycle

DEMO_PASSWORD = "ecocycle-demo"
# Staff sign in with a second factor: the demo staff member's authenticator app holds this secret
# (add it to any TOTP app, or `oathtool --totp -b <secret>`). Published in the README: demo only.
DEMO_TOTP_SECRET = "ECOCYCLEDEMOSTAFFKITECHTOTPCODES"
DEMO_STAFF_EMAIL = "staff@kitech.test"

DEMO_ACCOUNTS = [
    # email, role, full name, language, university (coordinators), time zone
    (DEMO_STAFF_EMAIL, User.Role.STAFF, "Demo KITECH Staff", "ko", None, ""),
    ("coordinator@itb.test", User.Role.COORDINATOR, "Demo Coordinator (ITB)", "id",
     "Institut Teknologi Bandung", "Asia/Jakarta"),
    ("coordinator@hust.test", User.Role.COORDINATOR, "Demo Coordinator (HUST)", "vi",
     "Hanoi University of Science and Technology", "Asia/Ho_Chi_Minh"),
    ("mentor@kitech.test", User.Role.MENTOR, "Demo Mentor (retired KITECH scientist)", "ko",
     None, ""),
]


class Command(BaseCommand):
    help = "Load the illustrative demo data (programs, universities, tracks, a round, accounts)."

    @transaction.atomic
    def handle(self, *args, **options):
        build_programs()
        build_companies()
        for email, role, name, language, university_name, tz in DEMO_ACCOUNTS:
            if User.objects.filter(email=email).exists():
                continue
            if role == User.Role.COORDINATOR:
                coordinator_create(
                    actor=None, email=email, full_name=name, language=language,
                    university=University.objects.get(name=university_name), timezone=tz,
                    password=DEMO_PASSWORD,
                )
            else:
                user = user_create(actor=None, email=email, role=role, full_name=name,
                                   language=language, password=DEMO_PASSWORD)
                if role == User.Role.STAFF:
                    # The demo staff member may do everything in the admin.
                    model_update(instance=user, data={"is_superuser": True}, actor=None)
        self._staff_authenticator()
        build_nominations()
        build_matching_round()
        build_approved_cohorts()
        build_offer_answers(actor=User.objects.get(email=DEMO_STAFF_EMAIL))
        build_cycle()
        build_career_proposals()
        build_mentors()
        build_invitations()
        build_alumni_mentors()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        coordinators = dict(
            Coordinator.objects.values_list("user__email", "university__name")
        )
        for email, role, *_rest in DEMO_ACCOUNTS:
            where = f" — {coordinators[email]}" if email in coordinators else ""
            self.stdout.write(f"  {role:<12} {email:<26} password: {DEMO_PASSWORD}{where}")
        self.stdout.write(f"  KITECH staff also give the code of an authenticator app holding the "
                          f"secret {DEMO_TOTP_SECRET} (`oathtool --totp -b {DEMO_TOTP_SECRET}`).")
        self.stdout.write("Mentor invitations wait for an answer: `python manage.py "
                          "send_mentor_reminders --force` prints them with working links.")

    def _staff_authenticator(self) -> None:
        staff = User.objects.get(email=DEMO_STAFF_EMAIL)
        if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(staff, DEMO_TOTP_SECRET)
