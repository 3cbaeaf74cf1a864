"""API for bulk imports and exports of the jurisdiction tree and people (multipart uploads).

- ``POST /people/import``: a CSV or XLSX file (``file``) and ``mode``
  (``all_or_nothing`` or ``valid_only``). In ``all_or_nothing`` mode an invalid
  row makes it a 400 ``import_invalid`` error whose ``rows`` list every
  ``{row, column, message}``; nothing is written.
- ``POST /jurisdictions/import``: a CSV or GeoJSON tree file; ``under_id`` places
  top-level rows under a node; ``dry_run`` reports without writing.
- ``GET /jurisdictions/export?format=csv|geojson&root_id=``: streamed.

An oversized file is a 413 ``file_too_large``; a file of the wrong type a 400
``invalid_file`` naming the field ``file``.
"""

from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from fangkong.core import imports, tree_io
from fangkong.core.errors import ValidationFailed
from fangkong.core.schema import Schema

router = Router(tags=["imports"])


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class PeopleImportOut(Schema):
    import_id: str
    mode: str
    rows: int
    created: int
    rejected: int
    errors: list[RowErrorOut]
    error_file: str | None = None  # the rejected rows as CSV, with an "error" column


class OverwriteOut(Schema):
    row: int
    node: str
    id: int
    field: str
    old: Any
    new: Any


class TreeImportOut(Schema):
    import_id: str
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    overwrites: list[OverwriteOut]
    errors: list[RowErrorOut]


class TreeExportQuery(Schema):
    format: Literal["csv", "geojson"] = "csv"
    root_id: int | None = None


def _required(file: UploadedFile | None) -> UploadedFile:
    # Checked here rather than by the schema so that the error names the field
    # "file" (the generic handler drops "file" from error locations).
    if file is None:
        raise ValidationFailed(fields={"file": _("Choose a file to import.")})
    return file


@router.post("/people/import", response=PeopleImportOut)
def people_import(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    mode: Form[str] = "all_or_nothing",
) -> dict[str, Any]:
    file = _required(file)
    result = imports.people_import(
        actor=request.user, fileobj=file, filename=file.name or "upload", mode=mode
    )
    body = result.as_dict()
    body["error_file"] = result.error_file.decode("utf-8-sig") if result.error_file else None
    return body


@router.post("/jurisdictions/import", response=TreeImportOut)
def jurisdiction_import(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    under_id: Form[int | None] = None,
    dry_run: Form[bool] = False,
) -> dict[str, Any]:
    file = _required(file)
    result = tree_io.tree_import(
        actor=request.user,
        fileobj=file,
        filename=file.name or "upload",
        under_id=under_id,
        dry_run=dry_run,
    )
    return result.as_dict()


@router.get("/jurisdictions/export")
def jurisdiction_export(request: HttpRequest, params: Query[TreeExportQuery]) -> Any:
    chunks = tree_io.tree_export(actor=request.user, fmt=params.format, root_id=params.root_id)
    if params.format == "csv":
        content_type, suffix = "text/csv; charset=utf-8", "csv"
    else:
        content_type, suffix = "application/geo+json", "geojson"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    name = f"jurisdictions-{params.root_id or 'all'}.{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
