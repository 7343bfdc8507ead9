"""What the database benchmarks share: Django set-up on a throwaway folder, a query counter."""

import os
import time

import django


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("ECOCYCLE_VAR_DIR", var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


def bench_staff(email: str = "bench-staff@example.test"):
    """A KITECH staff member enrolled in two-factor sign-in, as every staff page requires
    (ecocycle.middleware.StaffSecondFactorMiddleware): force_login then reaches the pages."""
    # After django.setup(): models cannot be imported before it.
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: PLC0415

    from ecocycle.models import User  # noqa: PLC0415

    staff = User.objects.create(email=email, full_name="Bench Staff", role=User.Role.STAFF,
                                is_staff=True)
    TOTP.activate(staff, generate_totp_secret())
    return staff


class QueryCounter:
    """A connection.execute_wrapper that counts statements (executemany counts once) and adds
    up the wall-clock seconds spent waiting for them (the database's share of a page or job)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
