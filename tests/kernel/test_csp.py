"""Every route, as every kind of visitor, answers with a strict Content-Security-Policy.

The routes are read from config.urls, not listed by hand: a new route whose path takes
parameters fails here until ROUTE_KWARGS says which of the demo world's objects fill it.
"""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from candidates.models import Cohort, CohortOverride, Nomination, NominationDocument
from ecocycle.models import User
from mentors.models import Mentor, MentorAssignment
from programs.models import IntakeRound
from students.models import CareerProposal, Enrolment
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

ROLES = {
    "anonymous": None,
    "coordinator": "coordinator@itb.test",
    "mentor": "mentor@kitech.test",
    "staff": "staff@kitech.test",
}


def _round():
    return IntakeRound.objects.filter(cohort__status=Cohort.Status.PROPOSED).first()


def _nomination():
    return Nomination.objects.filter(university__coordinators__user__email=ROLES["coordinator"],
                                     status=Nomination.Status.DRAFT).first()


def _assignment():
    return MentorAssignment.objects.filter(mentor__email=ROLES["mentor"]).first()


def _document():
    return NominationDocument.objects.filter(nomination=_nomination()).first() or \
        NominationDocument.objects.first()


# Route name -> the path parameters it is visited with, taken from the demo world.
ROUTE_KWARGS = {
    "candidates:nomination_new": lambda: {"round_id": _nomination().intake_round_id},
    "candidates:nomination_import": lambda: {"round_id": _nomination().intake_round_id},
    "candidates:nomination_import_template": lambda: {"round_id": _nomination().intake_round_id},
    "candidates:nomination_detail": lambda: {"pk": _nomination().pk},
    "candidates:nomination_edit": lambda: {"pk": _nomination().pk, "section": "person"},
    "candidates:nomination_submit": lambda: {"pk": _nomination().pk},
    "candidates:nomination_withdraw": lambda: {"pk": _nomination().pk},
    "candidates:nomination_consent_resend": lambda: {"pk": _nomination().pk},
    "candidates:document_download": lambda: {"pk": _document().pk},
    "candidates:document_remove": lambda: {"pk": _document().pk},
    "staff_rounds:override_clear": lambda: {
        "round_id": _round().pk,
        "override_id": getattr(CohortOverride.objects.first(), "pk", 1)},
    "staff_rounds:round_calendar": lambda: {"round_id": _round().pk, "action": "edit"},
    "staff_rounds:export": lambda: {"round_id": _round().pk, "what": "tracks",
                                    "fmt": "csv"},
    "staff_mentors:mentor_detail": lambda: {"mentor_id": Mentor.objects.first().pk},
    "staff_mentors:mentor_confirm": lambda: {"mentor_id": Mentor.objects.first().pk},
    "staff_mentors:assignment_withdraw": lambda: {"pk": _assignment().pk},
    "staff_students:detail": lambda: {"pk": Enrolment.objects.first().pk},
    "staff_students:request_update": lambda: {"pk": Enrolment.objects.first().pk},
    "staff_careers:introduce": lambda: {"pk": getattr(CareerProposal.objects.first(), "pk", 1)},
    "staff_careers:dismiss": lambda: {"pk": getattr(CareerProposal.objects.first(), "pk", 1)},
    "staff_privacy:person": lambda: {"pk": _nomination().pk},
    "staff_privacy:person_export": lambda: {"pk": _nomination().pk},
    "staff_privacy:person_erase": lambda: {"pk": _nomination().pk},
    "staff_privacy:mentor": lambda: {"pk": Mentor.objects.first().pk},
    "staff_privacy:mentor_export": lambda: {"pk": Mentor.objects.first().pk},
    "staff_privacy:mentor_erase": lambda: {"pk": Mentor.objects.first().pk},
    "mentors:assignment_answer": lambda: {"pk": _assignment().pk},
    "mentors:activity_new": lambda: {"pk": _assignment().pk},
    "api:round_detail": lambda: {"pk": _round().pk},
    "api:round_tracks": lambda: {"pk": _round().pk},
    "api:nomination_detail": lambda: {"pk": _nomination().pk},
    "api:nomination_submit": lambda: {"pk": _nomination().pk},
    "api:nomination_withdraw": lambda: {"pk": _nomination().pk},
    "api:document_list": lambda: {"pk": _nomination().pk},
    "api:document_detail": lambda: {"pk": _document().nomination_id,
                                    "document_id": _document().pk},
    "api:document_download": lambda: {"pk": _document().nomination_id,
                                      "document_id": _document().pk},
}
# Every staff route under /staff/rounds/<round_id>/ not named above takes the round alone.
ROUND_PREFIXES = ("staff_rounds:", "staff_mentors:round_", "staff_mentors:assignment_propose",
                  "staff_mentors:mentor_options")
# Routes whose parameter is an emailed secret: a made-up one is visited instead, which shows the
# page for an unknown or expired link (the page a guesser sees), under the same policy.
TOKEN_ROUTES = {"candidates:consent", "candidates:invitation", "alumni:update",
                "mentors:invitation", "account_confirm_email",
                "account_reset_password_from_key"}


def _routes(patterns=None, prefix="", namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def _path_of(route: str, pattern: URLPattern, namespace: str) -> str | None:
    converters = pattern.pattern.converters
    regex_groups = pattern.pattern.regex.groupindex
    if not converters and not regex_groups:
        return "/" + route.replace("^", "").replace("$", "")
    name = namespace + (pattern.name or "")
    if name in ROUTE_KWARGS:
        return reverse(name, kwargs=ROUTE_KWARGS[name]())
    if name in TOKEN_ROUTES:
        kwargs = {key: "made-up-token" for key in regex_groups}
        if "uidb36" in kwargs:
            kwargs["uidb36"] = "1z"
        return reverse(name, kwargs=kwargs)
    if name.startswith(ROUND_PREFIXES) and set(regex_groups) == {"round_id"}:
        return reverse(name, kwargs={"round_id": _round().pk})
    if name.startswith("admin:"):
        return None  # Visited below, through the admin's own index and change lists.
    raise AssertionError(f"{route} ({name}) takes parameters: add it to ROUTE_KWARGS.")


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
    for route, pattern, namespace in _routes():
        path = _path_of(route, pattern, namespace)
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
             reverse("admin:candidates_nomination_change", args=[_nomination().pk]),
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
