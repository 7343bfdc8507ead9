"""The production settings, checked in a separate process as an operator would run them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, env_extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL", "EMAIL_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_extra})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )


# The shared cache (rate limits across workers) and the mail server.
SERVICES = {"REDIS_URL": "redis://redis.example.org:6379/0",
            "EMAIL_URL": "smtp+tls://user:pass@smtp.example.org:587"}


def test_production_check_deploy_is_clean():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_extra={
        "DJANGO_SECRET_KEY": "a" * 20 + "-long-random-production-secret-key-value-xyz",
        "DJANGO_ALLOWED_HOSTS": "ecocycle.example.org",
        "ECOCYCLE_LOOKUP_HASH_KEY": "lookup-key-for-the-check",
        **SERVICES,
    })
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", env_extra={"DJANGO_ALLOWED_HOSTS": "ecocycle.example.org",
                                         "ECOCYCLE_LOOKUP_HASH_KEY": "x"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(("missing", "message"), [
    ("REDIS_URL", "REDIS_URL is not set"), ("EMAIL_URL", "EMAIL_URL is not set")])
def test_production_refuses_to_start_without_redis_or_a_mail_server(missing, message):
    result = _manage("check", env_extra={
        "DJANGO_SECRET_KEY": "a" * 20 + "-long-random-production-secret-key-value-xyz",
        "DJANGO_ALLOWED_HOSTS": "ecocycle.example.org", "ECOCYCLE_LOOKUP_HASH_KEY": "x",
        **{name: value for name, value in SERVICES.items() if name != missing}})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_smtp_timeout_comes_from_the_environment():
    show = "from django.conf import settings; print(settings.EMAIL_TIMEOUT)"
    env = {"DJANGO_SECRET_KEY": "a" * 20 + "-long-random-production-secret-key-value-xyz",
           "DJANGO_ALLOWED_HOSTS": "ecocycle.example.org", "ECOCYCLE_LOOKUP_HASH_KEY": "x",
           **SERVICES}
    shell = ("shell", "--no-imports", "-c", show)
    assert _manage(*shell, env_extra=env).stdout.strip() == "10"
    result = _manage(*shell, env_extra={**env, "ECOCYCLE_EMAIL_TIMEOUT": "4"})
    assert result.stdout.strip() == "4", result.stderr


def test_the_embedded_default_shows_our_error_pages_and_serves_static_files(tmp_path):
    probe = ("from django.test import Client; c = Client(HTTP_HOST='127.0.0.1'); "
             "r = c.get('/no-such-page/'); s = c.get('/static/css/ecocycle.css'); "
             "print(r.status_code, 'Page not found' in r.content.decode(), "
             "'Using the URLconf' in r.content.decode(), s.status_code)")
    result = _manage("shell", "--no-imports", "-c", probe, env_extra={
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "ECOCYCLE_VAR_DIR": str(tmp_path)})
    assert result.stdout.split()[-4:] == ["404", "True", "False", "200"], result.stderr


PRODUCTION = {"DJANGO_SECRET_KEY": "a" * 20 + "-long-random-production-secret-key-value-xyz",
              "DJANGO_ALLOWED_HOSTS": "ecocycle.example.org", "ECOCYCLE_LOOKUP_HASH_KEY": "x",
              **SERVICES}
SENTRY_ACTIVE = ("import sentry_sdk; c = sentry_sdk.get_client(); "
                 "print('ACTIVE', c.is_active(), c.options.get('send_default_pii'), "
                 "getattr(c.options.get('before_send'), '__module__', None))")


def test_sentry_is_initialised_only_when_a_dsn_is_set():
    shell = ("shell", "--no-imports", "-c", SENTRY_ACTIVE)
    result = _manage(*shell, env_extra={
        **PRODUCTION, "SENTRY_DSN": "https://public@sentry.example.org/1"})
    assert "ACTIVE True False ecocycle.sentry" in result.stdout, result.stderr
    result = _manage(*shell, env_extra={**PRODUCTION, "SENTRY_DSN": ""})
    assert "ACTIVE False" in result.stdout, result.stderr


LOG_PROBE = (
    "import logging\nfrom django.test import Client\n"
    "logging.getLogger('ecocycle.probe').warning('hello %s', 'world')\n"
    "try:\n    1 / 0\nexcept ZeroDivisionError:\n"
    "    logging.getLogger('ecocycle.probe').exception('it broke')\n"
    "Client(HTTP_HOST='ecocycle.example.org').post('/healthz', secure=True, "
    "HTTP_X_REQUEST_ID='req-42')\n"
)


def test_production_logs_are_one_json_object_a_line(tmp_path):
    result = _manage("shell", "--no-imports", "-c", LOG_PROBE,
                     env_extra={**PRODUCTION, "ECOCYCLE_VAR_DIR": str(tmp_path)})
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines, result.stderr
    by_message = {line["message"]: line for line in lines}
    hello = by_message["hello world"]
    assert (hello["level"], hello["logger"], hello["request_id"]) == (
        "WARNING", "ecocycle.probe", None)
    assert hello["timestamp"].endswith("+00:00")
    assert "ZeroDivisionError" in by_message["it broke"]["exc_info"]
    # A line logged while a request is served carries its id.
    refused = by_message["Method Not Allowed (POST): /healthz"]
    assert (refused["logger"], refused["request_id"]) == ("django.request", "req-42")
