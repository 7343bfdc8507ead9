"""allauth's emails go out in the reader's language, in our layout, without a host-name
greeting (issue 15)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.kernel.factories import MentorUserFactory

pytestmark = pytest.mark.django_db


def _mentor(language: str, *, password: bool = False):
    mentor = MentorUserFactory(language=language, full_name="김 멘토")
    if not password:
        mentor.set_unusable_password()
        mentor.save()
    return mentor


def _hosts() -> list[str]:
    return ["127.0.0.1", "testserver", "localhost", "example.com", ":8000"]


def _sent(client, django_capture_on_commit_callbacks, url: str, email: str):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(url), {"email": email})
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def test_a_korean_mentors_sign_in_code_email_is_korean_without_a_host_greeting(
        client, django_capture_on_commit_callbacks):
    mentor = _mentor("ko")
    message = _sent(client, django_capture_on_commit_callbacks, "account_request_login_code",
                    mentor.email)
    text = message.subject + message.body
    assert "Hello from" not in text and "Thank you for using" not in text
    assert not [host for host in _hosts() if host in text]
    assert "로그인 코드" in message.subject
    assert "로그인 코드는 아래에 있습니다" in message.body
    assert not re.search(r"\b(Your|sign-in|code is|Please|ignored)\b", message.body)
    assert message.body.rstrip().endswith("— ecocycle, KITECH · UST-KITECH")


def test_a_korean_password_reset_email_is_korean_without_a_host_greeting(
        client, django_capture_on_commit_callbacks):
    mentor = _mentor("ko", password=True)
    message = _sent(client, django_capture_on_commit_callbacks, "account_reset_password",
                    mentor.email)
    assert "Hello from" not in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert not re.search(r"\b(receiving|request|Click|username)\b", message.body)
    assert re.search("[가-힣]", message.subject) and re.search("[가-힣]", message.body)


def test_a_vietnamese_mentors_sign_in_code_email_is_vietnamese(
        client, django_capture_on_commit_callbacks):
    mentor = _mentor("vi")
    message = _sent(client, django_capture_on_commit_callbacks, "account_request_login_code",
                    mentor.email)
    assert "Mã đăng nhập" in message.subject
    assert "Mã đăng nhập của bạn ở bên dưới" in message.body
    assert not re.search(r"\b(Hello|Your|sign-in|code is|Please|ignored)\b", message.body)
    assert not [host for host in _hosts() if host in message.subject + message.body]


def test_a_vietnamese_password_reset_email_is_vietnamese(
        client, django_capture_on_commit_callbacks):
    mentor = _mentor("vi", password=True)
    message = _sent(client, django_capture_on_commit_callbacks, "account_reset_password",
                    mentor.email)
    assert "Email đặt lại mật khẩu" in message.subject
    assert message.body.startswith("Kính gửi 김 멘토,")
    assert "yêu cầu đặt lại mật khẩu" in message.body
    assert not re.search(r"\b(Hello|receiving|request|Click)\b", message.body)
