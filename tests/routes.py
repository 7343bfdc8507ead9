"""Every route of config.urls, walked, and the demo world's objects that fill its parameters.

Shared by the tests that visit every route (tests/kernel/test_csp.py) and every page
(tests/e2e/test_every_page.py). The routes are read from config.urls, not listed by hand: a new
route whose path takes parameters fails both until ROUTE_KWARGS says which of the demo world's
objects fill it, and a new route fails the page test until PAGES or NOT_PAGES names it.
"""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from candidates.models import (
    Cohort,
    CohortOverride,
    Nomination,
    NominationDocument,
    NominationImportJob,
    Offer,
    WhatIfRun,
)
from candidates.views import SECTION_KEYS
from hub.models import ExportJob
from mentors.models import Mentor, MentorAssignment
from programs.models import IntakeRound
from students.models import CareerProposal, Enrolment

ROLES = {
    "anonymous": None,
    "coordinator": "coordinator@itb.test",
    "mentor": "mentor@kitech.test",
    "staff": "staff@kitech.test",
}


def round_proposed():
    return IntakeRound.objects.filter(cohort__status=Cohort.Status.PROPOSED).first()


def nomination():
    return Nomination.objects.filter(university__coordinators__user__email=ROLES["coordinator"],
                                     status=Nomination.Status.DRAFT).first()


def _assignment():
    return MentorAssignment.objects.filter(mentor__email=ROLES["mentor"]).first()


def _offer_kwargs():
    offer = Offer.objects.select_related("cohort").order_by("id").first()
    if offer is None:
        return {"round_id": round_proposed().pk, "offer_id": 1}
    return {"round_id": offer.cohort.intake_round_id, "offer_id": offer.pk}


def _document():
    return NominationDocument.objects.filter(nomination=nomination()).first() or \
        NominationDocument.objects.first()


def _import_job():
    """A finished import of the coordinator's, with problems to list (the demo world has none:
    one is made the first time)."""
    draft = nomination()
    job = NominationImportJob.objects.filter(university=draft.university_id,
                                             intake_round=draft.intake_round_id).first()
    return job or NominationImportJob.objects.create(
        university_id=draft.university_id, intake_round_id=draft.intake_round_id,
        file_name="nominations.csv", status=NominationImportJob.Status.REJECTED, rows_total=2,
        rows_checked=2, errors=[[3, "email", "“x” is not a valid email address."],
                                [3, "", "Rows 2, 3 have the same passport number."]])


def _import_job_kwargs():
    job = _import_job()
    return {"round_id": job.intake_round_id, "job_id": job.pk}


def _export_job():
    """The staff member's finished export (the demo world has none: one is made, without its
    file, so that its page can be drawn)."""
    from ecocycle.models import User  # noqa: PLC0415

    staff = User.objects.get(email=ROLES["staff"])
    job = ExportJob.objects.filter(requested_by=staff).first()
    return job or ExportJob.objects.create(
        intake_round=round_proposed(), requested_by=staff, what="cohort", language="en",
        status=ExportJob.Status.DONE, rows_total=12, rows_done=12, size=4096)


# Route name -> the path parameters it is visited with, taken from the demo world.
ROUTE_KWARGS = {
    "candidates:nomination_new": lambda: {"round_id": nomination().intake_round_id},
    "candidates:nomination_import": lambda: {"round_id": nomination().intake_round_id},
    "candidates:nomination_import_template": lambda: {"round_id": nomination().intake_round_id},
    "candidates:nomination_import_job": _import_job_kwargs,
    "candidates:nomination_import_job_status": _import_job_kwargs,
    "candidates:nomination_import_job_retry": _import_job_kwargs,
    "candidates:nomination_detail": lambda: {"pk": nomination().pk},
    "candidates:nomination_edit": lambda: {"pk": nomination().pk, "section": "person"},
    "candidates:nomination_submit": lambda: {"pk": nomination().pk},
    "candidates:nomination_withdraw": lambda: {"pk": nomination().pk},
    "candidates:nomination_consent_resend": lambda: {"pk": nomination().pk},
    "candidates:document_download": lambda: {"pk": _document().pk},
    "candidates:document_remove": lambda: {"pk": _document().pk},
    "staff_rounds:override_clear": lambda: {
        "round_id": round_proposed().pk,
        "override_id": getattr(CohortOverride.objects.first(), "pk", 1)},
    "staff_rounds:wave_override_clear": lambda: {
        "round_id": round_proposed().pk,
        "override_id": getattr(CohortOverride.objects.first(), "pk", 1)},
    "staff_rounds:round_calendar": lambda: {"round_id": round_proposed().pk, "action": "edit"},
    "staff_rounds:export": lambda: {"round_id": round_proposed().pk, "what": "tracks",
                                    "fmt": "csv"},
    "staff_rounds:round_offer": _offer_kwargs,
    "staff_rounds:round_offer_action": lambda: {**_offer_kwargs(), "action": "extend"},
    "staff_rounds:export_job_create": lambda: {"round_id": round_proposed().pk,
                                               "what": "cohort"},
    "staff_rounds:export_job": lambda: {"job_id": _export_job().pk},
    "staff_rounds:export_job_download": lambda: {"job_id": _export_job().pk},
    "staff_mentors:mentor_detail": lambda: {"mentor_id": Mentor.objects.first().pk},
    "staff_mentors:mentor_confirm": lambda: {"mentor_id": Mentor.objects.first().pk},
    "staff_mentors:assignment_withdraw": lambda: {"pk": _assignment().pk},
    "staff_students:detail": lambda: {"pk": Enrolment.objects.first().pk},
    "staff_students:request_update": lambda: {"pk": Enrolment.objects.first().pk},
    "staff_careers:introduce": lambda: {"pk": getattr(CareerProposal.objects.first(), "pk", 1)},
    "staff_careers:dismiss": lambda: {"pk": getattr(CareerProposal.objects.first(), "pk", 1)},
    "staff_privacy:person": lambda: {"pk": nomination().pk},
    "staff_privacy:person_export": lambda: {"pk": nomination().pk},
    "staff_privacy:person_erase": lambda: {"pk": nomination().pk},
    "staff_privacy:mentor": lambda: {"pk": Mentor.objects.first().pk},
    "staff_privacy:mentor_export": lambda: {"pk": Mentor.objects.first().pk},
    "staff_privacy:mentor_erase": lambda: {"pk": Mentor.objects.first().pk},
    "mentors:assignment_answer": lambda: {"pk": _assignment().pk},
    "mentors:activity_new": lambda: {"pk": _assignment().pk},
    "api:round_detail": lambda: {"pk": round_proposed().pk},
    "api:round_tracks": lambda: {"pk": round_proposed().pk},
    "api:nomination_detail": lambda: {"pk": nomination().pk},
    "api:nomination_submit": lambda: {"pk": nomination().pk},
    "api:nomination_withdraw": lambda: {"pk": nomination().pk},
    "api:document_list": lambda: {"pk": nomination().pk},
    "api:document_detail": lambda: {"pk": _document().nomination_id,
                                    "document_id": _document().pk},
    "api:document_download": lambda: {"pk": _document().nomination_id,
                                      "document_id": _document().pk},
    # The candidate's page with a made-up link: the page a guesser sees (404).
    "candidate:document": lambda: {"token": "made-up-token", "document_id": _document().pk},
    "candidate:offer_answer": lambda: {"token": "made-up-token", "offer_id": 1,
                                       "answer": "accept"},
}
# Every staff route under /staff/rounds/<round_id>/ not named above takes the round alone.
ROUND_PREFIXES = ("staff_rounds:", "staff_mentors:round_", "staff_mentors:assignment_propose",
                  "staff_mentors:mentor_options")
# Routes whose parameter is an emailed secret: a made-up one is visited instead, which shows the
# page for an unknown or expired link (the page a guesser sees), under the same policy.
TOKEN_ROUTES = {"candidates:consent", "candidate:page", "candidate:withdraw",
                "candidate:email_confirm", "candidates:invitation", "alumni:update",
                "mentors:invitation", "account_confirm_email",
                "account_reset_password_from_key"}


def routes(patterns=None, prefix="", namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def path_of(route: str, pattern: URLPattern, namespace: str) -> str | None:
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
        return reverse(name, kwargs={"round_id": round_proposed().pk})
    if name.startswith("admin:"):
        return None  # Visited below, through the admin's own index and change lists.
    raise AssertionError(f"{route} ({name}) takes parameters: add it to ROUTE_KWARGS.")


def route_name(route: str, pattern: URLPattern, namespace: str) -> str:
    """The route's name with its namespace, or its path for a route without a name."""
    return namespace + pattern.name if pattern.name else "/" + route


SIGNED_IN = ("coordinator", "mentor", "staff")
EVERYONE = ("anonymous", *SIGNED_IN)

# Every page: route name -> the roles that see it (tests/e2e/test_every_page.py visits each as
# each of them). A new route fails that test until it is named here or in NOT_PAGES.
PAGES = {
    "home": EVERYONE,
    "cycle:public": EVERYONE,
    # allauth's pages, in our templates.
    "account_login": ("anonymous",),
    "account_signup": ("anonymous",),
    "account_request_login_code": ("anonymous",),
    "account_reset_password": ("anonymous",),
    "account_reset_password_done": ("anonymous",),
    "account_reset_password_from_key": ("anonymous",),
    "account_reset_password_from_key_done": ("anonymous",),
    "account_confirm_email": ("anonymous",),
    "account_email_verification_sent": ("anonymous",),
    "account_inactive": ("anonymous",),
    "account_logout": SIGNED_IN,
    "account_email": SIGNED_IN,
    "account_change_password": SIGNED_IN,
    "account_reauthenticate": SIGNED_IN,
    "mfa_index": SIGNED_IN,
    "mfa_reauthenticate": ("staff",),
    "candidates:account": SIGNED_IN,
    # Pages for emailed links, as a made-up link shows them.
    "candidates:consent": ("anonymous",),
    "candidate:page": ("anonymous",),
    "candidate:withdraw": ("anonymous",),
    "candidate:offer_answer": ("anonymous",),
    "candidate:email_confirm": ("anonymous",),
    "candidate:link_request": EVERYONE,
    "candidates:invitation": ("anonymous",),
    "alumni:update": ("anonymous",),
    "mentors:invitation": ("anonymous",),
    # Coordinators.
    "candidates:coordinator_home": ("coordinator",),
    "candidates:nomination_new": ("coordinator",),
    "candidates:nomination_import": ("coordinator",),
    "candidates:nomination_import_job": ("coordinator",),
    "candidates:nomination_detail": ("coordinator",),
    "candidates:nomination_edit": ("coordinator",),
    # Mentors.
    "mentors:home": ("mentor",),
    "mentors:profile": ("mentor",),
    "mentors:activity_new": ("mentor",),
    # KITECH staff.
    "staff_rounds:round_list": ("staff",),
    "staff_rounds:round_overview": ("staff",),
    "staff_rounds:cohort_review": ("staff",),
    "staff_rounds:whatif": ("staff",),
    "staff_rounds:cohort_approve_confirm": ("staff",),
    "staff_rounds:audit_log": ("staff",),
    "staff_rounds:wave_review": ("staff",),
    "staff_rounds:wave_approve_confirm": ("staff",),
    "staff_rounds:reserve": ("staff",),
    "staff_rounds:round_offers": ("staff",),
    "staff_rounds:round_offer": ("staff",),
    "staff_rounds:export_job": ("staff",),
    "staff_mentors:mentor_list": ("staff",),
    "staff_mentors:import": ("staff",),
    "staff_mentors:mentor_detail": ("staff",),
    "staff_mentors:round_assignments": ("staff",),
    "staff_students:list": ("staff",),
    "staff_students:detail": ("staff",),
    "staff_careers:proposal_list": ("staff",),
    "staff_privacy:search": ("staff",),
    "staff_privacy:person": ("staff",),
    "staff_privacy:retention": ("staff",),
    "staff_privacy:mentor_search": ("staff",),
    "staff_privacy:mentor": ("staff",),
    "staff_cycle:dashboard": ("staff",),
}


def _whatif_paths() -> list[str]:
    page = reverse("staff_rounds:whatif", kwargs={"round_id": round_proposed().pk})
    done = WhatIfRun.objects.filter(intake_round=round_proposed(), status=WhatIfRun.Status.DONE)
    return [page, *(f"{page}?whatif={pk}" for pk in done.values_list("pk", flat=True)[:1])]


# Pages with more than one face: route name -> the paths visited instead of its one path.
PAGE_VARIANTS = {
    "candidates:nomination_edit": lambda: [
        reverse("candidates:nomination_edit", kwargs={"pk": nomination().pk, "section": section})
        for section in SECTION_KEYS],
    # Sorted by a column: its header says so (aria-sort).
    "staff_rounds:cohort_review": lambda: [
        reverse("staff_rounds:cohort_review", kwargs={"round_id": round_proposed().pk}) + query
        for query in ("", "?sort=score", "?sort=track")],
    # With a computed what-if, where the world has one: the tracks and candidates it changes.
    "staff_rounds:whatif": _whatif_paths,
}

# Routes that are no page of ours, and why.
NOT_PAGES = {
    "healthz": "plain-text health check",
    "metrics": "Prometheus text for operators (a bearer token; 404 to everyone else)",
    "set_language": "POST only (the language switcher)",
    "api-schema": "OpenAPI document",
    "api-docs": "Swagger UI's own page, for developers",
    "api-not-found": "JSON 404 of the API",
    "/cycle/staff/": "redirect to staff_cycle:dashboard",
    "/cycle/staff/export.csv": "redirect to staff_cycle:export",
    "account_confirm_login_code": "redirects without a code in the session",
    "account_request_reauthentication_code": "redirects: not enabled for password accounts",
    "account_confirm_reauthentication_code": "redirects: not enabled for password accounts",
    "account_set_password": "redirects: every account has a password",
    "mfa_authenticate": "redirects without a pending sign-in (drawn by test_sign_in)",
    "mfa_activate_totp": "redirects for enrolled accounts",
    "mfa_deactivate_totp": "redirects to re-authentication",
    "mfa_generate_recovery_codes": "redirects: recovery codes are not enabled",
    "mfa_view_recovery_codes": "404: recovery codes are not enabled",
    "mfa_download_recovery_codes": "404: recovery codes are not enabled",
    "candidates:nomination_import_template": "CSV",
    "candidates:nomination_import_job_status": "JSON polled by the import page's script",
    "candidates:document_download": "a file",
    "candidate:document": "a file (the candidate's own document)",
    "staff_mentors:import_template": "CSV",
    "staff_mentors:mentor_options": "HTML fragment for the propose form's script",
    "staff_rounds:export": "CSV or spreadsheet",
    "staff_rounds:audit_export": "CSV",
    "staff_rounds:export_job_download": "a spreadsheet file",
    "staff_rounds:run_status": "status fragment polled by script",
    "staff_cycle:export": "CSV",
}
# Whole families that are no page of ours: Django's own admin (its templates, not ours), the
# JSON API, and the POST-only actions (their forms are on the pages above).
NOT_PAGE_PREFIXES = ("admin:", "/admin/", "api:")
POST_ONLY = {
    "candidates:nomination_submit", "candidates:nomination_withdraw",
    "candidates:nomination_consent_resend", "candidates:document_remove",
    "candidates:nomination_import_job_retry",
    "staff_rounds:override_create", "staff_rounds:override_clear", "staff_rounds:cohort_approve",
    "staff_rounds:round_calendar", "staff_rounds:cohort_reopen", "staff_rounds:run_now",
    "staff_rounds:wave_propose", "staff_rounds:wave_override_create",
    "staff_rounds:wave_override_clear", "staff_rounds:wave_approve",
    "staff_rounds:round_offer_action",
    "staff_rounds:export_job_create",
    "staff_mentors:assignment_propose", "staff_mentors:mentor_confirm",
    "staff_mentors:assignment_withdraw", "staff_students:request_update",
    "staff_careers:run_now", "staff_careers:introduce", "staff_careers:dismiss",
    "staff_privacy:person_export", "staff_privacy:person_erase", "staff_privacy:mentor_export",
    "staff_privacy:mentor_erase", "staff_privacy:retention_apply", "mentors:assignment_answer",
}


def is_page(name: str) -> bool:
    """Whether the route is a page; raises for a route neither list names."""
    if name in PAGES:
        return True
    if name in NOT_PAGES or name in POST_ONLY or name.startswith(NOT_PAGE_PREFIXES):
        return False
    raise AssertionError(f"{name} is a new route: add it to PAGES (with the roles that see it) "
                         "or NOT_PAGES in tests/routes.py.")
