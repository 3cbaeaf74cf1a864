"""The public status check (``GET /api/v1/status/check?token=...``): the hottest read
path in the system, kept lean. Open without authentication: the signed,
daily-rotating personal token is the credential. It answers level, colour,
valid-until and the emergency line only; a staff scanner with ``status.scan``
(session or API token) also gets the masked name. Served from the cache (one
Redis round trip with the per-address rate limit), database as fallback.

``check_response`` is served by the API route and, without the API framework in
front, by the plain view ``status:check`` (``/status/check``).
"""

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fangkong.core import permissions
from fangkong.core.apiedge import session_auth
from fangkong.core.errors import ApplicationError
from fangkong.core.middleware import client_ip
from fangkong.core.models import Person
from fangkong.core.services import TOKEN_ATTR
from fangkong.status import fastpath, rules, selectors
from fangkong.status.tokens import person_id_from_status_token


def _json(body: dict[str, Any], status: int) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/json", status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def mask_name(name: str) -> str:
    name = name or ""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def emergency_line() -> str:
    return _(
        "Medical emergencies must be admitted whatever the status: call 120 or go to the "
        "nearest emergency department."
    )


def _scanner(request: HttpRequest) -> Any:
    """A staff scanner, only when credentials are sent (phones send none)."""
    user = None
    if request.headers.get("Authorization") or request.headers.get("X-API-Token"):
        from fangkong.api import BearerToken, HeaderToken

        user = BearerToken()(request) or HeaderToken()(request)
    elif settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = session_auth(request)
    if user and permissions.has_capability(user, "status.scan"):
        return user
    return None


def fresh(entry: Any) -> bool:
    """A cached ``(level, valid-until timestamp)`` entry that may answer a check."""
    return entry is not None and (entry[1] is None or entry[1] > time.time())


def check_body(
    level: str, name: str, colour: str, emergency: str, until: float | None
) -> dict[str, Any]:
    """What a check answers (no name, no reasons), here and in ``status.wsgi``."""
    return {
        "level": level,
        "name": name,
        "colour": colour,
        "valid_until": (
            dt.datetime.fromtimestamp(until, tz=dt.UTC).isoformat() if until is not None else None
        ),
        "emergency": emergency,
    }


def check_response(request: HttpRequest) -> HttpResponse:
    # The token is read directly (no schema validation on the hottest path).
    token = request.GET.get("token", "")
    try:
        pid = person_id_from_status_token(token)
    except ApplicationError as exc:  # forged, tampered, expired: 400 with the field
        return _json(exc.as_dict(), exc.status)
    scanner = _scanner(request)
    device = getattr(scanner, TOKEN_ATTR, None) if scanner is not None else None
    policy = rules.policy()
    counter: str | None
    if device is not None:
        # A registered scanning device has its own limit: the scanners of one
        # checkpoint often share one address.
        counter, limit = f"device:{device}", policy.device_check_rate_per_minute
        message = _("Too many checks from this device; wait a minute.")
    else:
        counter, limit = client_ip(request), policy.check_rate_per_minute
        message = _("Too many checks from this address; wait a minute.")
    # Counted already when the WSGI fast path (``status.wsgi``) handed this check over.
    counted = request.META.get("fangkong.status.counted")
    count, entry = fastpath.lookup(counter, pid, counted=counted)
    if count > limit:
        return _json({"error": {"code": "rate_limited", "message": message, "fields": {}}}, 429)
    if fresh(entry):
        level_code, until = entry
    else:
        level_code, until = selectors.effective(pid)  # cache miss or stale: database
    lv = rules.levels().get(level_code) or rules.lowest_level()
    body = check_body(lv.code, str(lv.name), lv.colour, emergency_line(), until)
    if scanner is not None:
        person = (
            Person.objects.filter(pk=pid).values_list("name", "scope_path", "doc_masked").first()
        )
        if person is not None:
            body["masked_name"] = mask_name(person[0])
            body["masked_document"] = person[2]
    response = _json(body, 200)
    response["Content-Language"] = get_language() or ""
    return response


@require_GET
def check_view(request: HttpRequest) -> HttpResponse:
    """The same check as a plain Django view (no API framework in front)."""
    return check_response(request)
