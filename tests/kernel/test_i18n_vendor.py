"""Packages' strings in the languages they ship no catalogue for: Indonesian country names
(django-countries) and Vietnamese sign-in pages (allauth), from locale_vendor/ (issue 15)."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django_countries import countries

from tests.candidates.factories import open_round_with_tracks
from tests.kernel.factories import DEFAULT_PASSWORD, MentorUserFactory, StaffFactory
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory


def test_country_names_are_indonesian():
    with translation.override("id"):
        assert countries.name("KR") == "Korea Selatan"
        assert countries.name("AX") == "Kepulauan Åland"
        names = [name for _code, name in countries]
    assert "Afganistan" in names and "Jerman" in names and "Tiongkok" in names
    assert "South Korea" not in names and "Germany" not in names


@pytest.mark.django_db
def test_an_indonesian_nationality_list_says_korea_selatan(client):
    intake_round = open_round_with_tracks(n_tracks=1)
    coordinator = CoordinatorFactory(user__language="id")
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    client.force_login(coordinator.user)
    page = client.get(reverse("candidates:nomination_new", args=[intake_round.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert '<option value="KR">Korea Selatan</option>' in text
    assert "South Korea" not in text and "Åland Islands" not in text


# --- allauth in Vietnamese -----------------------------------------------------------------------

def _visible_text(html: str) -> str:
    """The page's words a reader sees (no tags, scripts or attribute values but placeholders,
    labels and button texts)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    placeholders = " ".join(re.findall(r'placeholder="([^"]*)"', html))
    return unescape(re.sub(r"<[^>]+>", " ", html) + " " + placeholders)


VI = {"HTTP_ACCEPT_LANGUAGE": "vi"}


def _vi_page(client, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    response = client.get(url, **VI)
    assert response.status_code == 200, url
    return _visible_text(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "english", "vietnamese"), [
    ("account_login", ["Sign In", "Forgot your password?", "Send me a sign-in code",
                       "Password", "Remember Me", "Email address"],
     ["Đăng nhập", "Quên mật khẩu?", "Gửi cho tôi mã đăng nhập", "Mật khẩu", "Ghi nhớ"]),
    ("account_request_login_code", ["Request Code", "Other sign-in options", "Email address"],
     ["Yêu cầu mã", "Cách đăng nhập khác"]),
    ("account_reset_password", ["Password Reset", "Forgotten your password?",
                                "Reset My Password", "Please contact us"],
     ["Đặt lại mật khẩu", "Quên mật khẩu? Hãy nhập địa chỉ email"]),
])
def test_vietnamese_sign_in_pages_have_no_english_sentence(client, url_name, english,
                                                             vietnamese):
    text = _vi_page(client, reverse(url_name))
    assert [phrase for phrase in english if phrase in text] == []
    assert all(phrase in text for phrase in vietnamese)


@pytest.mark.django_db
def test_the_vietnamese_second_factor_page_has_no_english_sentence(client):
    staff = StaffFactory(language="vi")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    response = client.post(reverse("account_login"),
                           {"login": staff.email, "password": DEFAULT_PASSWORD}, **VI)
    assert response["Location"] == reverse("mfa_authenticate")
    text = _vi_page(client, reverse("mfa_authenticate"))
    assert not [phrase for phrase in ["Two-Factor Authentication", "Your account is protected",
                                      "authenticator code", "Code", "Sign In", "Cancel"]
                if phrase in text]
    assert "Xác thực hai yếu tố" in text and "Vui lòng nhập mã xác thực" in text


@pytest.mark.django_db
def test_the_vietnamese_sign_in_code_page_has_no_english_sentence(client):
    mentor = MentorUserFactory(language="vi")
    mentor.set_unusable_password()
    mentor.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    response = client.post(reverse("account_request_login_code"), {"email": mentor.email}, **VI)
    text = _vi_page(client, response["Location"])
    assert not [phrase for phrase in ["Enter Sign-In Code", "We've sent a code", "Confirm",
                                      "Request new code", "Code", "Cancel"] if phrase in text]
    assert "Nhập mã đăng nhập" in text and "Chúng tôi đã gửi mã đến" in text
