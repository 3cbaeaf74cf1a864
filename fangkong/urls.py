from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from fangkong.api import api
from fangkong.core.admin_site import restrict_admin_to_system_administrators

restrict_admin_to_system_administrators(admin.site)

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("investigation/", include("fangkong.investigation.urls")),
    path("status/", include("fangkong.status.urls")),
    path("screening/", include("fangkong.screening.urls")),
    path("zones/", include("fangkong.zones.urls")),
    path("captcha/", include("captcha.urls")),
    path("", include("fangkong.core.urls")),
    # The public portal owns the site root and the article addresses
    # (/<channel>/<sub>/<id>.html); staff pages live under their module prefixes.
    path("", include("fangkong.portal.urls")),
]
