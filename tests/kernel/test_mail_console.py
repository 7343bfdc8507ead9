"""The embedded default's console mail: each email as people read it, subject decoded (issue 15)."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection

ROOT = Path(__file__).resolve().parent.parent.parent
BACKEND = "ecocycle.mail_console.EmailBackend"


def _printed(message) -> str:
    stream = io.StringIO()
    connection = get_connection(BACKEND, stream=stream)
    assert connection.send_messages([message]) == 1
    return stream.getvalue()


def test_the_console_prints_the_korean_subject_names_and_body_decoded():
    message = EmailMultiAlternatives(
        subject="[ecocycle] 멘토 초대: 답변을 기다립니다",
        body="김영수 박사님, 안녕하세요.\nhttp://127.0.0.1:8000/mentoring/invitations/abc/\n",
        from_email="ecocycle <noreply@ecocycle.kr>", to=["김영수 <kim@retired.example>"],
        reply_to=["KITECH 담당자 <staff@kitech.test>"],
    )
    message.attach_alternative("<p>김영수 박사님</p>", "text/html")
    message.attach("계획.txt", "내용", "text/plain")
    out = _printed(message)
    assert "Subject: [ecocycle] 멘토 초대: 답변을 기다립니다" in out
    assert "To: 김영수 <kim@retired.example>" in out
    assert "Reply-To: KITECH 담당자 <staff@kitech.test>" in out
    assert "김영수 박사님, 안녕하세요." in out
    assert "http://127.0.0.1:8000/mentoring/invitations/abc/" in out
    assert "text/html" in out and "계획.txt" in out
    assert "=?utf-8?" not in out.lower()  # no MIME encoded words
    assert out.rstrip().endswith("-" * 79)


def test_the_console_refuses_what_a_mail_server_would_refuse():
    message = EmailMultiAlternatives(subject="two\nlines", body="x", to=["a@example.org"])
    with pytest.raises(BadHeaderError):
        get_connection(BACKEND, stream=io.StringIO()).send_messages([message])


def _local_setting(name: str, **env_extra) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "EMAIL_URL", "ECOCYCLE_SITE_URL", "ECOCYCLE_PORT"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", **env_extra)
    show = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", show], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_embedded_default_prints_mail_with_this_backend_unless_a_server_is_set():
    assert _local_setting("EMAIL_BACKEND") == BACKEND
    assert _local_setting("EMAIL_BACKEND", EMAIL_URL="smtp://mail.example.org:25") == (
        "django.core.mail.backends.smtp.EmailBackend")


def test_the_embedded_default_builds_links_to_the_port_make_run_serves():
    assert _local_setting("SITE_URL") == "http://127.0.0.1:8000"
    assert _local_setting("SITE_URL", ECOCYCLE_PORT="8001") == "http://127.0.0.1:8001"
    assert _local_setting("SITE_URL", ECOCYCLE_PORT="8001",
                          ECOCYCLE_SITE_URL="https://demo.example.org/") == (
        "https://demo.example.org")
