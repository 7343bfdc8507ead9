"""Every route, as every kind of visitor, answers with a strict Content-Security-Policy.

The routes are read from config.urls by tests/routes.py, not listed by hand: a new route whose
path takes parameters fails here until its ROUTE_KWARGS says which of the demo world's objects
fill it.
"""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from ecocycle.models import User
from tests.routes import ROLES, nomination, path_of, routes
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

def _policy(header: str) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives}


def _assert_strict(response, where: str) -> None:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{where}: no Content-Security-Policy header"
    policy = _policy(header)
    for directive, sources in STRICT.items():
        assert policy.get(directive) == sources, f"{where}: {directive} is {policy.get(directive)}"
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, where


_built, demo = module_world(lambda: call_command("seed_demo", stdout=StringIO()), name="demo")


def _client_as(client, role):
    if ROLES[role]:
        client.force_login(User.objects.get(email=ROLES[role]))
    return client


@reads_world
@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_with_the_strict_policy(demo, client, role):
    _client_as(client, role)
    visited = 0
    for route, pattern, namespace in routes():
        path = path_of(route, pattern, namespace)
        if path is None:
            continue
        response = client.get(path)
        _assert_strict(response, f"{role} GET {path} ({response.status_code})")
        visited += 1
    assert visited > 80


@reads_world
def test_the_admin_answers_with_the_strict_policy(demo, client):
    _client_as(client, "staff")
    paths = [reverse("admin:index"), reverse("admin:ecocycle_auditentry_changelist"),
             reverse("admin:candidates_nomination_changelist"),
             reverse("admin:candidates_nomination_change", args=[nomination().pk]),
             reverse("admin:programs_intakeround_add")]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response, path)


def test_no_template_of_ours_carries_inline_script_style_or_handlers():
    # Emails are not pages: mail clients need their inline styles, and no policy applies there.
    pages = [path for path in (settings.BASE_DIR / "templates").rglob("*.html")
             if "email" not in path.relative_to(settings.BASE_DIR / "templates").parts]
    assert len(pages) > 30
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)
    offenders = [f"{path.name}: {match.group(0)}" for path in pages
                 for match in inline.finditer(path.read_text())]
    assert offenders == []


@reads_world
def test_swagger_ui_loads_its_script_and_style_from_files(demo, client):
    _client_as(client, "staff")
    response = client.get(reverse("api-docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html and "<style" not in html
    _assert_strict(response, "api-docs")
