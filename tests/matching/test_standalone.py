"""The engine imports on its own: no Django, Celery or DRF, and no environment variable set."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter, where the blocker is in place before anything of ours is imported.
PROGRAM = textwrap.dedent("""
    import importlib.abc
    import os
    import sys

    BLOCKED = {"django", "celery", "rest_framework"}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"{name} is not installed here", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    environ = dict(os.environ)

    import ecocycle.matching as engine

    assert engine.stable_match({"a": ["t"]}, {"t": ["a"]}, {"t": 1}).placements == {"a": "t"}
    assert engine.assign_optimal([("a", "m", 1.0)], {"m": 1}) == {"a": "m"}
    assert dict(os.environ) == environ, "importing the engine changed the environment"
    assert "DJANGO_SETTINGS_MODULE" not in os.environ
    print("ok")
""")


def test_the_engine_imports_without_django_celery_or_drf():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
