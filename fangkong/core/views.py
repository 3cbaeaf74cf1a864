"""Staff pages. Thin: validate, call one selector or service, render.

Every staff page goes through ``staff_page``: it sends anonymous visitors to the
sign-in page, asks for the second factor when the user has one, and turns domain
errors into pages (NotFound → 404, PermissionDenied → 403). Pages answer HTMX
requests (``HX-Request``) with the fragment they would otherwise embed.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.core import labels, permissions, selectors, services, twofactor
from fangkong.core.audit import audit_record
from fangkong.core.dashboard import attention_items
from fangkong.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.forms import (
    ApiTokenForm,
    AuditFilterForm,
    OtpTokenForm,
    PeopleFilterForm,
    UnmaskForm,
    add_application_errors,
    errors_onto,
)
from fangkong.core.models import AuditEntry, Jurisdiction, Person
from fangkong.core.sheets import csv_response, csv_stream

View = Callable[..., HttpResponseBase]

PEOPLE_PAGE_SIZE = 25
CHILDREN_PAGE_SIZE = 100
TIMELINE_PAGE_SIZE = 30
AUDIT_PAGE_SIZE = 50
OTP_PENDING_SECONDS = 300
# Status of a form sent back with errors; htmx is configured (base.html) to swap it in.
INVALID = 422


# --- Plumbing ---------------------------------------------------------------


def is_htmx(request: HttpRequest) -> bool:
    """A fragment request from htmx (not a history restore, which needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def staff_page(view: View) -> View:
    """Sign-in, second factor and domain errors for one staff page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user: Any = request.user
        if not user.is_authenticated:
            if is_htmx(request):
                to_login = HttpResponse(status=204)
                to_login["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                return to_login
            return redirect_to_login(request.get_full_path())
        if user_has_device(user, confirmed=True) and not user.is_verified():
            # A device was enrolled in another session: sign in again with it.
            logout(request)
            return redirect_to_login(request.get_full_path())
        response: HttpResponseBase
        try:
            response = view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except ApplicationError as exc:
            response = render(request, "400.html", {"error": exc}, status=exc.status)
        patch_vary_headers(response, ["HX-Request"])
        return response

    return wrapper


@dataclass
class Page:
    """One page of a list, found by fetching one row more than a page (no COUNT)."""

    items: list[Any]
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def page_of(qs: QuerySet[Any], number: int | None, size: int) -> Page:
    number = max(number or 1, 1)
    offset = (number - 1) * size
    rows = list(qs[offset : offset + size + 1])
    return Page(rows[:size], number, size, len(rows) > size)


def _page_param(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- A posted form through one service call ------------------------------------

Result = TypeVar("Result")


def submit_form(
    request: HttpRequest,
    form: django_forms.Form,
    call: Callable[[dict[str, Any]], Result],
    *,
    success: str,
    redirect_to: str | Callable[[Result], str],
) -> HttpResponseBase | None:
    """Post, redirect, get: a valid form goes to ``call`` (its cleaned data); when
    the service accepts it, the success message and a redirect to ``redirect_to``
    (a URL or URL name, or made from what the call returned).

    ``None`` otherwise (a GET, an invalid form, a domain error, which lands on the
    form): the view shows its page again with the form, status ``INVALID`` after a
    post. Permission checks stay in the view, before the form is bound."""
    if request.method != "POST" or not form.is_valid():
        return None
    with errors_onto(form) as outcome:
        result = call(form.cleaned_data)
    if not outcome.ok:
        return None
    if success:  # (an action that words its own outcome gives none)
        messages.success(request, success)
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def flash_form_errors(request: HttpRequest, form: django_forms.Form) -> None:
    """A form's errors as messages, for a form posted from a page that shows none:
    those of the whole form first, then each field's, after its label."""
    for error in form.non_field_errors():
        messages.error(request, str(error))
    for name, errs in form.errors.items():
        if name == NON_FIELD_ERRORS:
            continue
        label = form.fields[name].label if name in form.fields else ""
        for e in errs:
            messages.error(request, f"{label}: {e}" if label else str(e))


def post_form(
    request: HttpRequest,
    form: django_forms.Form,
    call: Callable[[dict[str, Any]], object],
    *,
    success: str,
    redirect_to: str,
) -> HttpResponseBase:
    """An action posted from a page (a button or a small form on it): back to
    ``redirect_to`` either way, with the success message or the form's errors."""
    done = submit_form(request, form, call, success=success, redirect_to=redirect_to)
    if done is not None:
        return done
    flash_form_errors(request, form)
    return redirect(redirect_to)


# --- Sign-in ----------------------------------------------------------------

_PENDING_USER = "fangkong_otp_user"
_PENDING_BACKEND = "fangkong_otp_backend"
_PENDING_SINCE = "fangkong_otp_since"
_PENDING_NEXT = "fangkong_otp_next"


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: user name and password (django-axes counts the failures)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request, next_url))
    form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user_has_device(user, confirmed=True):
            request.session.cycle_key()
            request.session[_PENDING_USER] = user.pk
            request.session[_PENDING_BACKEND] = user.backend
            request.session[_PENDING_SINCE] = time.time()
            request.session[_PENDING_NEXT] = next_url
            return redirect("core:login_otp")
        auth_login(request, user)
        return redirect(_safe_next(request, next_url))
    return render(
        request,
        "core/login.html",
        {"form": form, "next": next_url},
        status=INVALID if form.is_bound else 200,
    )


def _pending_user(request: HttpRequest) -> Any | None:
    since = request.session.get(_PENDING_SINCE)
    user_id = request.session.get(_PENDING_USER)
    if not user_id or not since or time.time() - float(since) > OTP_PENDING_SECONDS:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _forget_pending(request: HttpRequest) -> None:
    for key in (_PENDING_USER, _PENDING_BACKEND, _PENDING_SINCE, _PENDING_NEXT):
        request.session.pop(key, None)


@require_http_methods(["GET", "POST"])
def login_otp_view(request: HttpRequest) -> HttpResponse:
    """Step two, for users with a confirmed TOTP device: the code from their app."""
    user = _pending_user(request)
    if user is None:
        _forget_pending(request)
        return redirect("core:login")
    form = OtpTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].replace(" ", "")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        allowed, _info = device.verify_is_allowed() if device else (False, None)
        if not allowed:
            form.add_error(None, _("Too many wrong codes. Wait a little and try again."))
        elif device is not None and token.isdigit() and device.verify_token(token):
            next_url = request.session.get(_PENDING_NEXT, "")
            backend = request.session.get(_PENDING_BACKEND)
            _forget_pending(request)
            user.otp_device = device  # django_otp persists it on login
            auth_login(request, user, backend=backend)
            otp_login(request, device)
            return redirect(_safe_next(request, next_url))
        else:
            form.add_error("token", _("This code is not right. Check the time on your phone."))
    return render(
        request,
        "core/login_otp.html",
        {"form": form, "pending_user": user},
        status=INVALID if form.is_bound else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:login")


_NEW_TOKEN_KEY = "fangkong_new_api_token"  # noqa: S105 - a session key, not a secret


@staff_page
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """One's API tokens with their last use; a new one (shown once); revoke."""
    user: Any = request.user
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, clear = services.api_token_create(
                actor=user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ApplicationError as exc:
            form.add_error("expires_on", exc.fields.get("expires_at") or str(exc.message))
        else:
            # Post, redirect, get: reloading the page must not make a second token.
            # The secret waits in the session for the one page that shows it.
            request.session[_NEW_TOKEN_KEY] = {"id": token.pk, "clear": clear}
            return redirect("core:api_tokens")
    shown = request.session.pop(_NEW_TOKEN_KEY, None) if request.method == "GET" else None
    if shown is not None:
        new = selectors.api_tokens_of(user).filter(pk=shown["id"]).first()
        if new is not None:
            created = {"token": new, "clear": shown["clear"]}
    context = {
        "form": form,
        "created": created,
        "tokens": selectors.api_tokens_of(user),
        "now": timezone.now(),
        "lifetime_days": settings.FANGKONG_API_TOKEN_DAYS,
    }
    status = INVALID if form.is_bound and created is None else 200
    response = render(request, "core/api_tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the new token is shown once
    return response


@staff_page
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = services.api_token_revoke(actor=request.user, token_id=token_id)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("core:api_tokens")


@staff_page
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: scan the QR code, then confirm with a code."""
    user: Any = request.user
    if user_has_device(user, confirmed=True):
        return render(request, "core/two_factor.html", {"enabled": True})
    device = twofactor.totp_device_pending(actor=user)
    form = OtpTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.totp_device_confirm(actor=user, token=form.cleaned_data["token"])
        except ValidationFailed as exc:
            add_application_errors(form, exc)
        else:
            otp_login(request, device)
            return redirect("core:two_factor")
    return render(
        request,
        "core/two_factor.html",
        {
            "enabled": False,
            "form": form,
            "qr_svg": twofactor.qr_svg(device.config_url),
            "otpauth_uri": device.config_url,
            "secret": _base32(device.bin_key),
        },
        status=INVALID if form.is_bound and form.errors else 200,
    )


def _base32(key: bytes) -> str:
    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# --- Overview ---------------------------------------------------------------


@staff_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    profile = permissions.staff_profile(user)
    node = profile.jurisdiction if profile else None
    context: dict[str, Any] = {"node": node, "children": [], "level_counts": []}
    if permissions.has_capability(user, "jurisdiction.view"):
        nodes = selectors.jurisdiction_list_for(user)
        if node is not None:
            context["breadcrumb"] = selectors.jurisdiction_breadcrumb(node, user=user)
            context["children"] = page_of(
                selectors.jurisdiction_list_for(user, parent_id=node.pk), 1, 12
            )
            nodes = nodes.exclude(pk=node.pk)
        else:
            context["children"] = page_of(nodes.filter(parent__isnull=True), 1, 12)
        counts = dict(nodes.order_by().values_list("level").annotate(n=Count("id")))
        context["level_counts"] = [
            (label, counts[value]) for value, label in Jurisdiction.Level.choices if value in counts
        ]
    context["residents"] = (
        node.resident_count
        if node is not None
        else sum(c.resident_count for c in context["children"].items)
        if context["children"]
        else 0
    )
    context["can_search"] = permissions.has_capability(user, "person.view")
    context["attention"] = attention_items(user)
    return render(request, "core/home.html", context)


# --- People -----------------------------------------------------------------


def _area_choices(user: Any, selected: Jurisdiction | None) -> list[Jurisdiction]:
    """The areas offered in the people filter: the user's node and three levels below."""
    if not permissions.has_capability(user, "jurisdiction.view"):
        return [selected] if selected else []
    nodes = selectors.area_choices_for(user)
    if selected is not None and selected.pk not in {n.pk for n in nodes}:
        nodes.append(selected)
        nodes.sort(key=lambda n: n.path)
    return nodes


@staff_page
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    permissions.require(user, "person.view")
    selected = None
    raw_area = request.GET.get("jurisdiction", "")
    if raw_area.isdigit():
        selected = selectors.access_jurisdiction_by_id(user, int(raw_area))
    # A live-search request re-renders only the table: it needs no list of areas.
    nodes = ([selected] if selected else []) if is_htmx(request) else _area_choices(user, selected)
    form = PeopleFilterForm(
        request.GET or None,
        nodes=nodes,
        key_groups=list(selectors.key_group_list()),
    )
    results: Page | None = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        qs = selectors.person_list_for(
            user,
            jurisdiction=selected,
            key_group=data.get("key_group") or None,
            q=data.get("q") or "",
        )
        results = page_of(
            qs.select_related("home").prefetch_related("key_groups"),
            data.get("page"),
            PEOPLE_PAGE_SIZE,
        )
    context = {"form": form, "results": results, "selected_area": selected}
    if is_htmx(request):
        return render(request, "core/_people_results.html", context)
    return render(request, "core/people.html", context)


@staff_page
@require_GET
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    user: Any = request.user
    person = selectors.access_person_by_id(user, person_id)
    members: list[Person] = []
    if person.household_id:
        members = list(
            selectors.person_list_for(user)
            .filter(household_id=person.household_id)
            .exclude(pk=person.pk)[:20]
        )
    kept = None
    if person.merged_into_id:
        try:
            kept = selectors.access_person_by_id(user, person.merged_into_id)
        except NotFound:
            kept = None
    timeline = page_of(
        selectors.person_timeline(user, person), _page_param(request), TIMELINE_PAGE_SIZE
    )
    context = {
        "person": person,
        "key_groups": list(person.key_groups.all()),
        "breadcrumb": (
            selectors.jurisdiction_breadcrumb(person.home, user=user) if person.home else []
        ),
        "crumb_tail": person.name,
        "members": members,
        "kept": kept,
        "timeline": timeline,
        "can_unmask": permissions.has_capability(user, "person.unmask"),
    }
    if is_htmx(request):
        return render(request, "core/_timeline.html", context)
    return render(request, "core/person.html", context)


@staff_page
@require_http_methods(["GET", "POST"])
def person_unmask(request: HttpRequest, person_id: int) -> HttpResponse:
    """Ask for a reason, then show the full numbers in place (audited by the service)."""
    user: Any = request.user
    permissions.require(user, "person.unmask")
    person = selectors.access_person_by_id(user, person_id)
    form = UnmaskForm(request.POST if request.method == "POST" else None)
    numbers = None
    if request.method == "POST" and form.is_valid():
        try:
            numbers = services.person_unmask(
                actor=user, person_id=person.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            add_application_errors(form, exc)
    context = {
        "person": person,
        "form": form,
        "numbers": numbers,
        "base_template": "_fragment.html" if is_htmx(request) else "base.html",
    }
    status = INVALID if form.is_bound and numbers is None else 200
    response = render(request, "core/person_unmask.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- Jurisdictions ----------------------------------------------------------


@staff_page
@require_GET
def jurisdictions(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    permissions.require(user, "jurisdiction.view")
    profile = permissions.staff_profile(user)
    if profile is not None:
        return redirect("core:jurisdiction", jurisdiction_id=profile.jurisdiction_id)
    roots = selectors.jurisdiction_list_for(user).filter(parent__isnull=True)
    return render(
        request,
        "core/jurisdiction.html",
        {"node": None, "children": page_of(roots, _page_param(request), CHILDREN_PAGE_SIZE)},
    )


@staff_page
@require_GET
def jurisdiction_detail(request: HttpRequest, jurisdiction_id: int) -> HttpResponse:
    user: Any = request.user
    node = selectors.access_jurisdiction_by_id(user, jurisdiction_id)
    children = page_of(
        selectors.jurisdiction_list_for(user, parent_id=node.pk),
        _page_param(request),
        CHILDREN_PAGE_SIZE,
    )
    return render(
        request,
        "core/jurisdiction.html",
        {
            "node": node,
            "children": children,
            "breadcrumb": selectors.jurisdiction_breadcrumb(node, user=user),
            "can_see_people": permissions.has_capability(user, "person.view"),
        },
    )


# --- Audit ------------------------------------------------------------------


@staff_page
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    permissions.require(user, "audit.view")
    form = AuditFilterForm(request.GET or None)
    entries: Page | None = None
    if not form.is_bound or form.is_valid():
        filters = form.filters() if form.is_bound else {}
        entries = page_of(
            selectors.audit_list_for(user, with_actors=True, **filters),
            form.cleaned_data.get("page") if form.is_bound else 1,
            AUDIT_PAGE_SIZE,
        )
        # What each row is about, in words (a case as its number and person).
        names = labels.object_names((e.object_type, e.object_id) for e in entries.items)
        for e in entries.items:
            e.object_name = names.get((e.object_type, e.object_id), "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit.html",
        {
            "form": form,
            "entries": entries,
            "export_query": query.urlencode(),
            "can_export": permissions.has_capability(user, "audit.export"),
            "role_names": selectors.role_names_by_code(),
        },
        status=200 if entries is not None else INVALID,
    )


_CSV_COLUMNS = [
    "time",
    "actor_username",
    "actor_roles",
    "actor_jurisdiction_path",
    "action",
    "object_type",
    "object_id",
    "scope_path",
    "person_id",
    "changes",
    "reason",
    "request_id",
    "client_ip",
]


def _audit_rows(qs: QuerySet[AuditEntry]) -> Iterator[bytes]:
    rows = (
        [
            entry.time.isoformat(),
            entry.actor_username,
            entry.actor_roles,
            entry.actor_jurisdiction_path,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.scope_path,
            entry.person_id,
            json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
            entry.reason,
            entry.request_id,
            entry.client_ip,
        ]
        for entry in qs.iterator(chunk_size=2000)
    )
    return csv_stream(_CSV_COLUMNS, rows)


@staff_page
@require_GET
def audit_export(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    permissions.require(user, "audit.export")
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        raise ValidationFailed(
            fields={k: " ".join(str(m) for m in v) for k, v in form.errors.items()}
        )
    filters = form.filters() if form.is_bound else {}
    qs = selectors.audit_list_for(user, **filters)
    profile = permissions.staff_profile(user)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="audit.export",
            object_type="core.auditentry",
            object_id="",
            scope_path=profile.jurisdiction.path if profile else "",
            changes={
                k: [None, v.isoformat() if hasattr(v, "isoformat") else v]
                for k, v in filters.items()
                if v not in (None, "")
            },
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(_audit_rows(qs), f"fangkong-audit-{stamp}.csv")


@require_GET
def base_map(request: HttpRequest) -> HttpResponse:
    """The maps' base layer (districts and streets with their boundaries), public:
    places only. Cached by the browser for ten minutes."""
    from django.http import JsonResponse
    from django.utils.cache import patch_cache_control
    from django.utils.translation import get_language

    response = JsonResponse(selectors.base_map(get_language() or settings.LANGUAGE_CODE))
    patch_cache_control(response, public=True, max_age=selectors.BASE_MAP_SECONDS)
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


@staff_page
@require_GET
def tree_pick(request: HttpRequest) -> HttpResponse:
    """The children of an area (or of the user's own area) as checkboxes for a
    ``TreePickField``: a person picks units in the tree, never types ids."""
    user: Any = request.user
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        parent = selectors.access_jurisdiction_by_id(user, int(parent_id))
    else:
        profile = permissions.staff_profile(user)
        if profile is None:
            raise NotFound()
        parent = profile.jurisdiction
    children = selectors.jurisdiction_list_for(user, parent_id=parent.pk).only(
        "id", "name_zh", "name_en", "level", "path"
    )[:500]
    name = request.GET.get("name", "units")[:40]
    levels = [v for v in request.GET.get("levels", "").split(",") if v]
    return render(
        request,
        "core/_tree_children.html",
        {"children": children, "name": name, "levels": ",".join(levels)},
    )
