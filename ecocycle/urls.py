from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

# The admin login gets allauth's rate limits too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("ecocycle — KITECH staff")
admin.site.site_title = _("ecocycle staff")
admin.site.index_title = _("Programs, rounds, nominations and mentors")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("candidates.urls")),
    path("staff/", include("candidates.staff_urls")),
    path("staff/mentors/import/", include("mentors.import_urls")),
    path("staff/mentors/", include("mentors.staff_urls")),
    path("staff/students/", include("candidates.progress_urls")),
    path("staff/careers/", include("candidates.career_urls")),
    path("staff/privacy/mentors/", include("mentors.privacy_urls")),
    path("staff/privacy/", include("candidates.privacy_urls")),
    path("alumni/", include("mentors.alumni_urls")),
    path("cycle/", include("ecocycle.cycle_urls")),
    path("mentoring/", include("mentors.urls")),
    path("api/v1/", include("candidates.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
