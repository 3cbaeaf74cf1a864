"""The OpenAPI document: one schema name per class, and the error answers documented.

- Component names carry their app: ``fangkong.screening.api.TeamIn`` is
  ``ScreeningTeamIn`` and ``fangkong.investigation.models.Venue.Category`` is
  ``InvestigationVenueCategory``, so that two apps' ``TeamIn`` (or two models'
  ``Status``) never share a name — which made one overwrite the other and
  documented ``/notify/batches`` with the screening batch's body. Two classes of
  one app with the same name are caught by a test (``schema_name_clashes``).
- Every operation lists the error answers it may give, in the one error shape
  (``ErrorBody``).
"""

from __future__ import annotations

import enum
import sys
import threading
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ninja.openapi.schema as ninja_openapi
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel
from pydantic.json_schema import CoreModeRef, DefsRef

ERROR_BODY = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable reason"},
                "message": {"type": "string", "description": "translated, for a person"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "field name -> what is wrong with it",
                },
            },
            "additionalProperties": True,
        }
    },
}
# Answers any operation may give, besides its own.
ERRORS = {
    "400": "Invalid input (``invalid``, ``malformed``, ``import_invalid`` ...): nothing written",
    "401": "Not signed in (no session or token)",
    "403": "Signed in without the capability, or the CSRF token of a session is missing",
    "404": "Not found, or outside your jurisdiction",
    "409": "Conflicts with existing data",
    "413": "Body or file too large",
    "500": "Unexpected error: nothing written",
}


def _app_qualified(core_ref: str) -> str | None:
    """``ScreeningTeamIn`` for ``fangkong.screening.api.TeamIn:<id>`` (None: not ours)."""
    if "[" in core_ref:  # a generic: leave pydantic's name
        return None
    dotted = core_ref.rsplit(":", 1)[0]
    parts = dotted.split(".")
    if len(parts) < 3 or parts[0] != "fangkong":
        return None
    for cut in range(len(parts) - 1, 1, -1):
        if ".".join(parts[:cut]) in sys.modules:
            qualname = parts[cut:]
            return parts[1].title().replace("_", "") + "".join(qualname)
    return None


class AppQualifiedJsonSchema(NinjaGenerateJsonSchema):
    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        ref = super().get_defs_ref(core_mode_ref)
        qualified = _app_qualified(core_mode_ref[0])
        if qualified is not None:
            self._prioritized_defsref_choices[ref].insert(0, DefsRef(qualified))
        return ref


_LOCK = threading.Lock()


@contextmanager
def app_qualified_names() -> Iterator[None]:
    """While generating the document, ninja names components the app-qualified way."""
    with _LOCK:
        original = ninja_openapi.NinjaGenerateJsonSchema
        ninja_openapi.NinjaGenerateJsonSchema = AppQualifiedJsonSchema  # type: ignore[misc]
        try:
            yield
        finally:
            ninja_openapi.NinjaGenerateJsonSchema = original  # type: ignore[misc]


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add ``ErrorBody`` and the error answers to every operation of ``document``."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ERROR_BODY
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERRORS.items():
                operation["responses"].setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return document


def api_types(api: Any) -> set[type]:
    """Every schema class and enum that the operations of ``api`` read or answer."""
    found: set[type] = set()

    def walk(tp: Any) -> None:
        if tp in found:
            return
        if typing.get_origin(tp) is not None:
            for arg in typing.get_args(tp):
                walk(arg)
            return
        if not isinstance(tp, type):
            return
        if issubclass(tp, BaseModel):
            found.add(tp)
            for field in tp.model_fields.values():
                walk(field.annotation)
        elif issubclass(tp, enum.Enum):
            found.add(tp)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    walk(model)
                for model in operation.response_models.values():
                    if model is not None and model is not Ellipsis:
                        walk(model)
    return found


def schema_name_clashes(api: Any) -> dict[str, list[str]]:
    """Component names of the document given to more than one class (should be none)."""
    names: dict[str, set[str]] = {}
    for tp in api_types(api):
        core_ref = f"{tp.__module__}.{tp.__qualname__}:0"
        name = _app_qualified(core_ref) or tp.__name__
        names.setdefault(name, set()).add(f"{tp.__module__}.{tp.__qualname__}")
    components = api.get_openapi_schema(path_prefix="/api/v1")["components"]["schemas"]
    return {
        name: sorted(classes)
        for name, classes in names.items()
        if len(classes) > 1 and name in components
    }
