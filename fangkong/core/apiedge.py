"""The edge of the JSON API: every answer in one shape, nothing written when it is an error.

``FangkongAPI`` is the project's ``NinjaAPI``. Around every operation it

1. refuses, before any schema is read, input that no column can hold: a string
   with a NUL character or an unpaired surrogate (query, form, JSON body, keys
   included), a body that is not JSON where JSON is expected (also ``NaN``), a
   body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), a path id past 64 bits (404);
2. runs a write (POST, PUT, PATCH, DELETE) in one transaction that also covers
   building and serialising the answer; when the answer is an error (status 400
   or more, an exception included) the transaction is rolled back, so a client
   that retries after an error never finds a half-done write;
3. answers every error as ``{"error": {"code", "message", "fields"}}`` with a
   translated message: domain errors (``ApplicationError``), schema errors (each
   field's message translated), authentication (401, also for a POST without a
   session: no "CSRF check Failed" for an anonymous caller), unknown routes and
   non-integer ids (404), methods (405), oversized and malformed bodies, and any
   unexpected exception (500 ``server_error``, logged with its traceback).

Django's own error pages for ``/api/`` addresses (``handler400/403/404/500`` in
``fangkong.urls``) answer in the same shape.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, DataError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from fangkong.core.errors import ApplicationError
from fangkong.core.fastpaths import bearer_token
from fangkong.core.openapi import app_qualified_names, document_errors
from fangkong.core.schema import INT64_MAX

logger = logging.getLogger("fangkong.api")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_JSON_CACHE = "_fangkong_json"
_UNSET = object()


class BadInput(Exception):
    """Input refused at the edge (before the schemas)."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_body(code: str, message: Any, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def json_error(
    status: int, code: str, message: Any, fields: dict[str, Any] | None = None
) -> JsonResponse:
    """The one error shape, for answers built outside an operation."""
    return JsonResponse(
        error_body(code, message, fields), status=status, json_dumps_params={"ensure_ascii": False}
    )


# --- Text that no column can hold --------------------------------------------------------


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return True
    return False


def _bad_path(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) in ``value`` that no column can hold."""
    if isinstance(value, str):
        return path if _bad_text(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _bad_text(key):
                return path or "__all__"
            found = _bad_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def _refuse_text(where: str) -> BadInput:
    return BadInput(
        400,
        "invalid",
        _("Some fields are not valid."),
        {where or "__all__": _("This text contains a character that cannot be stored (NUL).")},
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def load_json(body: bytes) -> Any:
    """The JSON of a request body; BadInput (400 ``malformed``) for anything else."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise BadInput(
            400, "malformed", _("The request body is not valid JSON."), {"__all__": ""}
        ) from None


def _is_form(request: HttpRequest) -> bool:
    content_type = str(request.META.get("CONTENT_TYPE", ""))
    return content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


def check_input(request: HttpRequest, kwargs: dict[str, Any]) -> None:
    """Raise BadInput for input that no schema should see (module docstring, point 1)."""
    for value in kwargs.values():
        if isinstance(value, int) and not -INT64_MAX <= value <= INT64_MAX:
            raise Http404
    for key, values in request.GET.lists():
        if _bad_text(key) or any(_bad_text(v) for v in values):
            raise _refuse_text(key)
    if request.method in SAFE_METHODS:
        return
    try:
        if _is_form(request):
            for key, values in request.POST.lists():
                if _bad_text(key) or any(_bad_text(v) for v in values):
                    raise _refuse_text(key)
            return
        body = request.body
    except RequestDataTooBig:
        raise BadInput(
            413,
            "too_large",
            _("The request is too large: at most %(size)s MB.")
            % {"size": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):.3g}"},
            {},
        ) from None
    except (SuspiciousOperation, MultiPartParserError):
        raise BadInput(400, "malformed", _("The request body cannot be read."), {}) from None
    if body.strip():
        data = load_json(body)
        where = _bad_path(data, "")
        if where is not None:
            raise _refuse_text(where)
        setattr(request, _JSON_CACHE, data)


class EdgeParser(Parser):
    """Reads the JSON that ``check_input`` already parsed (once a request)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = getattr(request, _JSON_CACHE, _UNSET)
        if data is _UNSET:
            data = load_json(request.body)
        return data


# --- Authentication ----------------------------------------------------------------------


class SessionAuth(APIKeyCookie):
    """A staff session. The CSRF token is checked for a signed-in user only: an
    anonymous caller gets 401 (sign in), not a CSRF failure. A request carrying an
    API token is judged by the token alone."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if bearer_token(request.META) is not None:
            # A request that names a token speaks for that token: a revoked or
            # expired one is refused (401), never carried by the browser's session.
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "csrf")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None


session_auth = SessionAuth()


# --- Messages of schema errors, translated ----------------------------------------------

_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "null_not_allowed": gettext_lazy("This field cannot be null: leave it out to keep its value."),
    "int_not_bool": gettext_lazy("Give a number, not true or false."),
    "int_out_of_range": gettext_lazy("The number must be between %(low)s and %(high)s."),
    "int_parsing": gettext_lazy("Give a whole number."),
    "int_type": gettext_lazy("Give a whole number."),
    "int_from_float": gettext_lazy("Give a whole number."),
    "float_parsing": gettext_lazy("Give a number."),
    "float_type": gettext_lazy("Give a number."),
    "finite_number": gettext_lazy("Give a finite number."),
    "bool_parsing": gettext_lazy("Give true or false."),
    "bool_type": gettext_lazy("Give true or false."),
    "string_type": gettext_lazy("Give a text."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "string_pattern_mismatch": gettext_lazy("This text does not have the expected form."),
    "greater_than": gettext_lazy("Give a number greater than %(gt)s."),
    "greater_than_equal": gettext_lazy("Give a number of at least %(ge)s."),
    "less_than": gettext_lazy("Give a number less than %(lt)s."),
    "less_than_equal": gettext_lazy("Give a number of at most %(le)s."),
    "enum": gettext_lazy("Choose one of: %(expected)s."),
    "literal_error": gettext_lazy("Choose one of: %(expected)s."),
    "date_parsing": gettext_lazy("Give a date as YYYY-MM-DD."),
    "date_type": gettext_lazy("Give a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_lazy("Give a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": gettext_lazy("Give a date as YYYY-MM-DD."),
    "datetime_parsing": gettext_lazy("Give a date and time as YYYY-MM-DDTHH:MM:SS+08:00."),
    "datetime_type": gettext_lazy("Give a date and time as YYYY-MM-DDTHH:MM:SS+08:00."),
    "datetime_from_date_parsing": gettext_lazy(
        "Give a date and time as YYYY-MM-DDTHH:MM:SS+08:00."
    ),
    "time_parsing": gettext_lazy("Give a time of day as HH:MM."),
    "time_type": gettext_lazy("Give a time of day as HH:MM."),
    "time_with_offset": gettext_lazy(
        "A time of day is local: give it without a time zone (for example 08:00)."
    ),
    "offset_out_of_range": gettext_lazy("A time zone offset lies between -18:00 and +18:00."),
    "datetime_out_of_range": gettext_lazy("The date is out of range."),
    "list_type": gettext_lazy("Give a list."),
    "too_long": gettext_lazy("At most %(max_length)s items."),
    "too_short": gettext_lazy("At least %(min_length)s items."),
    "dict_type": gettext_lazy("Give an object."),
    "model_type": gettext_lazy("Give an object."),
    "model_attributes_type": gettext_lazy("Give an object."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
    "extra_forbidden": gettext_lazy("This field is not known."),
}


def field_message(err: dict[str, Any]) -> str:
    template = _MESSAGES.get(str(err.get("type", "")))
    if template is None:
        return str(err.get("msg") or _("Invalid value."))
    context = {k: _readable(v) for k, v in (err.get("ctx") or {}).items()}
    try:
        return str(template) % context if "%(" in str(template) else str(template)
    except (KeyError, ValueError, TypeError):
        return str(err.get("msg") or template)


def _readable(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)


# --- The API class -----------------------------------------------------------------------

_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
_WRAPPERS = {"payload", "filters", "data"}


class FangkongAPI(NinjaAPI):
    """NinjaAPI with the edge of this module around every operation."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parser", EdgeParser())
        super().__init__(**kwargs)
        handlers: dict[type[Exception], Any] = {
            ApplicationError: self._application_error,
            NinjaValidationError: self._validation_error,
            AuthenticationError: self._auth_error,
            Http404: self._not_found,
            HttpError: self._http_error,
            DataError: self._data_error,
            Exception: self._server_error,
        }
        for exc_class, handler in handlers.items():
            self.add_exception_handler(exc_class, handler)

    def error_response(
        self,
        request: HttpRequest,
        status: int,
        code: str,
        message: Any,
        fields: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self.create_response(request, error_body(code, message, fields), status=status)

    # Exception handlers --------------------------------------------------------------

    def _application_error(self, request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return self.create_response(request, exc.as_dict(), status=exc.status)

    def _validation_error(self, request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, str] = {}
        for err in exc.errors:
            loc = [str(p) for p in err.get("loc", [])]
            # Drop where the value came from (body, query, file ...) and the name of
            # the schema parameter that wraps the fields, keeping the field's own name.
            if len(loc) > 1 and loc[0] in _SOURCES:
                loc = loc[1:]
            if len(loc) > 1 and loc[0] in _WRAPPERS:
                loc = loc[1:]
            key = ".".join(loc) or "__all__"
            fields.setdefault(key, field_message(err))
        return self.error_response(request, 400, "invalid", _("Some fields are not valid."), fields)

    def _auth_error(self, request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return self.error_response(request, 401, "unauthenticated", _("Please sign in."))

    def _not_found(self, request: HttpRequest, exc: Http404) -> HttpResponse:
        return self.error_response(request, 404, "not_found", _("Not found."))

    def _http_error(self, request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        if status == 403 and str(exc) == "csrf":
            return self.error_response(
                request,
                403,
                "csrf_failed",
                _("The form has expired or its security token is missing: reload the page."),
            )
        if status == 400:
            return self.error_response(
                request, 400, "malformed", _("The request body cannot be read.")
            )
        if status == 429:
            return self.error_response(
                request, 429, "throttled", _("Too many requests: wait a moment and try again.")
            )
        return self.error_response(request, status, "error", str(exc))

    def _data_error(self, request: HttpRequest, exc: DataError) -> HttpResponse:
        # A value the schema let through but the column cannot hold: the schema
        # needs a bound (the fuzz test reports it); the client gets a 400, and the
        # write is rolled back.
        logger.warning("Value refused by the database at %s", request.path, exc_info=exc)
        return self.error_response(
            request,
            400,
            "data_error",
            _("A value is too long or out of range for its field."),
        )

    def _server_error(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("Unexpected error at %s", request.path, exc_info=exc)
        return self.error_response(
            request,
            500,
            "server_error",
            _(
                "Something went wrong on our side and nothing was saved. Try again; if it "
                "happens again, tell the system administrator (request %(id)s)."
            )
            % {"id": getattr(request, "request_id", "")},
        )

    # The OpenAPI document ------------------------------------------------------------

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        with app_qualified_names():
            document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_errors(document)

    # URLs ---------------------------------------------------------------------------

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._edge(pattern.callback)
        urls.append(re_path(r"^", self._edge(self._unknown_route)))
        return urls

    def _unknown_route(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.error_response(request, 404, "not_found", _("Not found."))

    def _edge(self, view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def edge(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                check_input(request, kwargs)
            except BadInput as exc:
                return self.error_response(request, exc.status, exc.code, exc.message, exc.fields)
            except Http404:
                return self._not_found(request, Http404())
            if request.method in SAFE_METHODS:
                return self._shaped(request, self._run(view, request, args, kwargs))
            with transaction.atomic():
                response = self._run(view, request, args, kwargs)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
            return self._shaped(request, response)

        edge.csrf_exempt = True  # type: ignore[attr-defined]
        return edge

    def _run(
        self,
        view: Callable[..., HttpResponseBase],
        request: HttpRequest,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except Http404 as exc:
            return self._not_found(request, exc)
        except DatabaseError as exc:
            if isinstance(exc, DataError):
                return self._data_error(request, exc)
            return self._server_error(request, exc)
        except Exception as exc:  # an error outside the operation (ninja's own code)
            return self._server_error(request, exc)

    def _shaped(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """An error answer that is not in the JSON shape (ninja's 405) made into it."""
        if response.status_code < 400 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        if response.status_code == 405:
            shaped = self.error_response(
                request, 405, "method_not_allowed", _("This method is not allowed here.")
            )
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return self.error_response(
            request, response.status_code, "error", _("The request could not be processed.")
        )


# --- Django's error pages, for /api/ addresses in the one shape ----------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if _is_api(request):
        return json_error(400, "malformed", _("The request cannot be read."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if _is_api(request):
        return json_error(403, "forbidden", _("You do not have permission to do this."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if _is_api(request):
        return json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponseBase:
    if _is_api(request):
        return json_error(
            500, "server_error", _("Something went wrong on our side. Try again later.")
        )
    return defaults.server_error(request)
