"""`make run` as a newcomer runs it: on the port asked for, saying where mail goes, quietly
finding Python (issue 15). `make -n` prints the commands without running them."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args, path_first: Path | None = None, **env_extra) -> subprocess.CompletedProcess:
    # Not a sub-make of `make test` (CI): no inherited flags or level.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "PYTHON", "EMAIL_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    env.update(env_extra)
    return subprocess.run(["make", "-n", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def _web_command() -> str:
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("Procfile.dev has no web process")


def test_make_run_takes_a_port_to_the_web_process():
    result = _make("run", "PORT=8001")
    assert result.returncode == 0, result.stderr
    assert "ECOCYCLE_PORT=8001 .venv/bin/honcho -f Procfile.dev start" in result.stdout
    assert "http://127.0.0.1:8001/" in result.stdout
    # The web command, expanded by the shell as honcho runs it (honcho sets PORT of its own).
    expanded = subprocess.run(["sh", "-c", f"printf '%s\\n' {_web_command()}"],
                              env={"ECOCYCLE_PORT": "8001", "PORT": "5000"},
                              capture_output=True, text=True, check=True).stdout.split()
    assert expanded[-1] == "127.0.0.1:8001"
    default = subprocess.run(["sh", "-c", f"printf '%s\\n' {_web_command()}"], env={},
                             capture_output=True, text=True, check=True).stdout.split()
    assert default[-1] == "127.0.0.1:8000"
    assert "http://127.0.0.1:8000/" in _make("run").stdout


def test_make_run_refuses_a_port_that_is_not_a_number():
    result = subprocess.run(["make", "check-port", "PORT=80; rm -rf x"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "PORT must be a port number" in result.stdout


def test_make_run_says_where_mail_goes_without_printing_the_server_password():
    console = _make("run").stdout
    assert "Mail: printed in this window by the worker" in console
    smtp = _make("run", EMAIL_URL="smtp+tls://user:s3cret@smtp.example.org:587").stdout
    assert "Mail: to the mail server in EMAIL_URL" in smtp
    assert "s3cret" not in smtp


def test_the_python_lookup_is_quiet_about_pyenv_shims_that_fail(tmp_path):
    # A shim for a Python version pyenv has not selected: it exists, and complains when run.
    for name in ("python3.13", "python3.12"):
        shim = tmp_path / name
        shim.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n")
        shim.chmod(0o755)
    # As on a fresh clone: the set-up (which looks for Python) is due even where .venv exists.
    result = _make("-W", "pyproject.toml", "run", path_first=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "command not found" not in result.stderr + result.stdout
    assert 'test -n ""' not in result.stdout  # and a Python 3.11+ was found after the shims
    assert 'test -n "python3' in result.stdout
