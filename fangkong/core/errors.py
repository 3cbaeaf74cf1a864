"""One error hierarchy for domain rule violations.

Services raise these; the API turns them into
``{"error": {"code", "message", "fields": {...}}}`` and pages show them inline.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    status = 400
    code = "invalid"
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        fields: dict[str, Any] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = {k: str(v) for k, v in (fields or {}).items()}
        if code:
            self.code = code
        self.extra = extra or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        body["fields"] = self.fields
        body.update(self.extra)
        return {"error": body}


class ValidationFailed(ApplicationError):
    status = 400
    code = "invalid"
    default_message = _("Some fields are not valid.")


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    default_message = _("This conflicts with existing data.")
