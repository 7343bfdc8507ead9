"""What the database benchmarks share: Django set-up on a throwaway folder, a query counter."""

import os

import django


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("ECOCYCLE_VAR_DIR", var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


class QueryCounter:
    """A connection.execute_wrapper that counts statements (executemany counts once)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
