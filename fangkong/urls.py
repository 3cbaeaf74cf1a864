from captcha.views import captcha_image
from django.contrib import admin
from django.urls import include, path, re_path
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
    path("quarantine/", include("fangkong.quarantine.urls")),
    path("entry/", include("fangkong.entry.urls")),
    path("supplies/", include("fangkong.supplies.urls")),
    path("hq/", include("fangkong.headquarters.urls")),
    # Only the captcha's pictures: its refresh view hands out challenges past the
    # per-client limit of fangkong/portal/captcha.py, and its audio needs flite.
    re_path(r"^captcha/image/(?P<key>\w+)/$", captcha_image, {"scale": 1}, name="captcha-image"),
    re_path(
        r"^captcha/image/(?P<key>\w+)@2/$", captcha_image, {"scale": 2}, name="captcha-image-2x"
    ),
    path("", include("fangkong.core.urls")),
    # The resident's door-step request is zones' own page in the public layout,
    # under the portal's self-service addresses.
    path("me/", include("fangkong.zones.resident_urls")),
    # Entry control's public pages, beside the portal's self-service under /me/.
    path("me/", include("fangkong.entry.public_urls")),
    # The public portal owns the site root and the article addresses
    # (/<channel>/<sub>/<id>.html); staff pages live under their module prefixes.
    path("", include("fangkong.portal.urls")),
]

# Errors raised before a view answers (an unknown host, a middleware's refusal) are
# pages, except under /api/, where they keep the API's one JSON error shape.
handler400 = "fangkong.core.apiedge.bad_request"
handler403 = "fangkong.core.apiedge.permission_denied"
handler404 = "fangkong.core.apiedge.page_not_found"
handler500 = "fangkong.core.apiedge.server_error"
