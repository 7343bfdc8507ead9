from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from candidates.apis import ApiNotFound
from ecocycle.metrics import metrics_view
from hub import views

# The admin login gets allauth's rate limits too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("ecocycle — KITECH staff")
admin.site.site_title = _("ecocycle staff")
admin.site.index_title = _("Programs, rounds, nominations and mentors")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Operators' Prometheus scraper only (a bearer token); a 404 for everyone else.
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("candidates.urls")),
    # Staff pages: one area each, at /staff/<area>/ with the namespace staff_<area>.
    path("staff/", include("hub.round_urls")),
    path("staff/mentors/", include("mentors.staff_urls")),
    path("staff/students/", include("students.urls")),
    path("staff/careers/", include("students.career_urls")),
    path("staff/privacy/", include("privacy.urls")),
    path("staff/cycle/", include("hub.staff_urls")),
    path("alumni/", include("hub.alumni_urls")),
    path("cycle/", include("hub.urls")),
    path("candidate/", include("hub.candidate_urls")),
    path("mentoring/", include("mentors.urls")),
    path("api/v1/", include("candidates.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script from its own URL: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    # Last: whatever else is under /api/ answers a JSON 404. Only paths ending in a slash, so
    # that Django still redirects /api/v1/rounds to /api/v1/rounds/.
    re_path(r"^api/[\s\S]*/$", ApiNotFound.as_view(), name="api-not-found"),
]

# A write that found the database busy outside a view (the session's save) answers 503 too.
handler500 = "ecocycle.middleware.server_error"
