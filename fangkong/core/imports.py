"""Bulk import of people from CSV or XLSX files.

The file is read three times at most, never held whole in memory:

1. a quick scan collects the building references, resolved in chunked queries;
2. every row is validated (``person_clean``), duplicates are looked for within
   the file and, by keyed hash in chunks, in the registry;
3. only if some rows were rejected, the file is read again to write those rows,
   with an ``error`` column, to an error file the operator can fix and re-import.

Mode ``all_or_nothing`` (default) writes nothing when any row is invalid and raises
``ImportRejected`` listing every error as (row, column, message); mode
``valid_only`` imports the valid rows and returns the rejected ones in the error
file. Row numbers are those of the spreadsheet: the header is row 1.

Where people live is given by one of two columns:

- ``building_code`` (楼栋编码): the official code (``Jurisdiction.code``) of a building;
- ``building_id`` (楼栋ID): the building's id as shown by the API and pages, for
  buildings without an official code (the synthetic city's, for example).

A building outside the importer's jurisdiction does not exist for them, so it is
reported like an unknown one. The file reading helpers (size and type checks,
UTF-8 / GB18030 decoding, row numbers, ``RowError``) are ``fangkong.core.tabular``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, current_request, diff
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import AuditEntry, Jurisdiction, KeyGroup, Person
from fangkong.core.services import (
    CleanPerson,
    PersonData,
    _person_snapshot,
    person_clean,
    person_instance,
)
from fangkong.core.tabular import (
    FileRejected,
    ImportRejected,
    RowError,
    csv_rows,
    detect_encoding,
    open_upload,
    sniff_kind,
)
from fangkong.core.types import Actor, acting_user

MODES = ("all_or_nothing", "valid_only")
QUERY_CHUNK = 500
WRITE_BATCH = 1000


@dataclass
class ImportResult:
    created: int
    rejected: int
    errors: list[RowError]
    error_file: bytes | None = None  # CSV (UTF-8 with BOM) of the rejected rows
    mode: str = "all_or_nothing"
    rows: int = 0  # data rows read (blank rows not counted)
    import_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "mode": self.mode,
            "rows": self.rows,
            "created": self.created,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
        }


# --- People files -----------------------------------------------------------

# Canonical column -> accepted header spellings (compared after _norm_header).
COLUMNS: dict[str, tuple[str, ...]] = {
    "doc_type": ("doc_type", "证件类型"),
    "doc_number": ("doc_number", "证件号码", "身份证号", "身份证号码"),
    "name": ("name", "姓名"),
    "sex": ("sex", "性别"),
    "birth_date": ("birth_date", "出生日期"),
    "phone": ("phone", "手机号", "手机号码", "联系电话"),
    "building_code": ("building_code", "楼栋编码"),
    "building_id": ("building_id", "楼栋id"),
    "unit": ("unit", "单元", "单元号", "房号"),
    "key_groups": ("key_groups", "重点人群"),
    "limited_mobility": ("limited_mobility", "行动不便"),
    "language": ("language", "语言"),
}
REQUIRED = ("doc_number", "name")
BUILDING_COLUMNS = ("building_code", "building_id")
_HEADER_LOOKUP = {alias: canon for canon, aliases in COLUMNS.items() for alias in aliases}
# person_clean's field names -> our columns
_FIELD_TO_COLUMN = {"home_id": "building", "home_unit": "unit"}

_DOC_TYPES = {
    "prc_id": "prc_id",
    "居民身份证": "prc_id",
    "身份证": "prc_id",
    "passport": "passport",
    "护照": "passport",
    "other": "other",
    "其他": "other",
}
_SEX = {
    "m": "M",
    "male": "M",
    "男": "M",
    "f": "F",
    "female": "F",
    "女": "F",
    "u": "U",
    "unknown": "U",
    "未知": "U",
}
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否"}
_LANGUAGES = {
    "zh-hans": "zh-hans",
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh_cn": "zh-hans",
    "chinese": "zh-hans",
    "中文": "zh-hans",
    "简体中文": "zh-hans",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_GROUP_SPLIT = re.compile(r"[;|；、]")


def _norm_header(value: Any) -> str:
    text = str(value if value is not None else "").replace("\ufeff", "").strip()
    text = text.strip("*＊ ").lower()
    return re.sub(r"[\s\-]+", "_", text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class _Source:
    """A CSV or XLSX people file that can be read more than once."""

    def __init__(self, f: IO[bytes], kind: str, filename: str) -> None:
        self.f, self.kind, self.filename = f, kind, filename
        self.encoding = detect_encoding(f) if kind == "text" else ""
        self.header_row = 0
        self.headers: list[str] = []
        self.columns: dict[str, int] = {}  # canonical name -> cell index

    def _raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.kind == "text":
            yield from csv_rows(self.f, self.encoding)
            return
        import openpyxl

        self.f.seek(0)
        try:
            wb = openpyxl.load_workbook(self.f, read_only=True, data_only=True)
        except Exception as exc:  # any failure to open means: not a readable workbook
            raise FileRejected(
                _("This file is not an Excel workbook that can be read (%(detail)s).")
                % {"detail": type(exc).__name__}
            ) from None
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            if ws is None:
                raise FileRejected(_("The workbook has no sheet."))
            ws.reset_dimensions()  # some writers record wrong sheet dimensions
            rows = enumerate(ws.iter_rows(values_only=True), start=1)
            while True:
                try:
                    number, values = next(rows)
                except StopIteration:
                    break
                except Exception as exc:  # a damaged sheet
                    raise FileRejected(
                        _("The workbook is damaged and cannot be read (%(detail)s).")
                        % {"detail": type(exc).__name__}
                    ) from None
                cells = list(values)
                if any(_text(c) for c in cells):
                    yield number, cells
        finally:
            wb.close()

    def read_header(self) -> None:
        rows = self._raw_rows()
        first = next(rows, None)
        if first is None:
            raise FileRejected(_("The file is empty."))
        self.header_row, cells = first
        self.headers = [_text(c) for c in cells]
        for index, header in enumerate(self.headers):
            canon = _HEADER_LOOKUP.get(_norm_header(header))
            if canon is None:
                continue  # extra columns (and a previous run's "error") are ignored
            if canon in self.columns:
                raise FileRejected(_("The column “%(column)s” appears twice.") % {"column": header})
            self.columns[canon] = index
        missing = [c for c in REQUIRED if c not in self.columns]
        if not any(c in self.columns for c in BUILDING_COLUMNS):
            missing.append("building_code / building_id")
        if missing:
            raise FileRejected(
                _(
                    "Required columns are missing: %(columns)s. The first row must name "
                    "the columns; these are read: %(known)s."
                )
                % {"columns": ", ".join(missing), "known": ", ".join(COLUMNS)},
                extra={"missing_columns": missing, "known_columns": list(COLUMNS)},
            )
        if next(rows, None) is None:
            raise FileRejected(_("The file has a header row but no data rows."))

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        rows = self._raw_rows()
        next(rows, None)  # header
        yield from rows

    def cell(self, cells: list[Any], column: str) -> Any:
        index = self.columns.get(column)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def label(self, column: str) -> str:
        """The column as headed in the user's file."""
        if column == "building":
            for c in BUILDING_COLUMNS:
                if c in self.columns:
                    return self.headers[self.columns[c]]
        index = self.columns.get(column)
        return self.headers[index] if index is not None else column


@dataclass(slots=True)
class _Valid:
    row: int
    clean: CleanPerson
    doc_hash: str


@dataclass
class _Checked:
    valid: list[_Valid] = field(default_factory=list)
    errors: dict[int, list[RowError]] = field(default_factory=dict)
    rows: int = 0

    def add(self, error: RowError) -> None:
        self.errors.setdefault(error.row, []).append(error)


class _CellError(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _parse_row(
    src: _Source,
    cells: list[Any],
    groups: dict[str, str],
) -> tuple[PersonData, list[_CellError]]:
    problems: list[_CellError] = []

    def get(column: str) -> str:
        return _text(src.cell(cells, column))

    raw_doc_type = get("doc_type")
    doc_type = _DOC_TYPES.get(raw_doc_type.lower(), raw_doc_type) if raw_doc_type else "prc_id"
    raw_doc = src.cell(cells, "doc_number")
    if isinstance(raw_doc, float) and raw_doc >= 1e15:
        problems.append(
            _CellError(
                "doc_number",
                _(
                    "Excel stored this ID number as a number and lost its last digits: "
                    "format the column as Text and type the number again."
                ),
            )
        )
    sex_text = get("sex")
    sex = None
    if sex_text:
        sex = _SEX.get(sex_text.lower())
        if sex is None:
            problems.append(_CellError("sex", _("Sex must be M, F or U (or 男, 女).")))
    birth = None
    raw_birth = src.cell(cells, "birth_date")
    if isinstance(raw_birth, dt.datetime):
        birth = raw_birth.date()
    elif isinstance(raw_birth, dt.date):
        birth = raw_birth
    elif _text(raw_birth):
        for fmt in _DATE_FORMATS:
            try:
                birth = dt.datetime.strptime(_text(raw_birth), fmt).date()  # noqa: DTZ007
                break
            except ValueError:
                continue
        else:
            problems.append(
                _CellError(
                    "birth_date",
                    _("“%(value)s” is not a date; write it as YYYY-MM-DD.")
                    % {"value": _text(raw_birth)},
                )
            )
    mobility_text = get("limited_mobility").lower()
    limited = False
    if mobility_text in _YES:
        limited = True
    elif mobility_text and mobility_text not in _NO:
        problems.append(_CellError("limited_mobility", _("Write yes or no (是 or 否, 1 or 0).")))
    language_text = get("language")
    language = _LANGUAGES.get(language_text.lower(), language_text) if language_text else "zh-hans"
    unit = get("unit")
    if len(unit) > 40:
        problems.append(_CellError("unit", _("A unit has at most 40 characters.")))
    codes = []
    for token in _GROUP_SPLIT.split(get("key_groups")):
        token = token.strip()
        if token:
            codes.append(groups.get(token.lower(), token))
    data = PersonData(
        doc_type=doc_type,
        doc_number=_text(raw_doc),
        name=get("name"),
        sex=sex,
        birth_date=birth,
        phone=get("phone"),
        home_unit=unit,
        key_groups=list(dict.fromkeys(codes)),
        limited_mobility=limited,
        language=language,
    )
    return data, problems


def _building_refs(src: _Source) -> tuple[set[str], set[int]]:
    codes: set[str] = set()
    ids: set[int] = set()
    for _row, cells in src.rows():
        code = _text(src.cell(cells, "building_code"))
        if code:
            codes.add(code)
        bid = _text(src.cell(cells, "building_id"))
        if bid.isdigit():
            ids.add(int(bid))
    return codes, ids


def _chunks(items: Iterable[Any], size: int = QUERY_CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _resolve_buildings(
    codes: set[str], ids: set[int], scope: str
) -> tuple[dict[str, Jurisdiction], dict[int, Jurisdiction]]:
    """Buildings in the importer's subtree, by code and by id (others are absent)."""
    fields = ("id", "path", "level", "code", "depth", "parent_id")

    def usable(node: Jurisdiction) -> bool:
        return node.level == Jurisdiction.Level.BUILDING and node.path.startswith(scope)

    by_code: dict[str, Jurisdiction] = {}
    for chunk in _chunks(sorted(codes)):
        for node in Jurisdiction.objects.filter(code__in=chunk).only(*fields):
            if usable(node):
                by_code[node.code or ""] = node
    by_id: dict[int, Jurisdiction] = {}
    for chunk in _chunks(sorted(ids)):
        for node in Jurisdiction.objects.filter(pk__in=chunk).only(*fields):
            if usable(node):
                by_id[node.pk] = node
    return by_code, by_id


def _key_group_lookup() -> tuple[dict[str, KeyGroup], dict[str, str]]:
    by_code = {g.code: g for g in KeyGroup.objects.all()}
    names: dict[str, str] = {}
    for g in by_code.values():
        for label in (g.code, g.name_zh, g.name_en):
            if label:
                names.setdefault(label.lower(), g.code)
    return by_code, names


def _check_rows(src: _Source, scope: str) -> _Checked:
    codes, ids = _building_refs(src)
    by_code, by_id = _resolve_buildings(codes, ids, scope)
    groups_by_code, group_names = _key_group_lookup()
    checked = _Checked()
    seen: dict[tuple[str, str], int] = {}
    limit = int(getattr(settings, "FANGKONG_MAX_IMPORT_ROWS", 1_000_000))
    for row, cells in src.rows():
        checked.rows += 1
        if checked.rows > limit:
            raise FileRejected(
                _("The file has more than %(limit)s rows; split it.") % {"limit": limit}
            )
        data, problems = _parse_row(src, cells, group_names)
        for p in problems:
            checked.add(RowError(row, src.label(p.column), p.message))
        home = _row_building(src, cells, by_code, by_id, row, checked)
        try:
            clean = person_clean(data, key_groups_by_code=groups_by_code, home=home)
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                column = _FIELD_TO_COLUMN.get(name, name)
                if any(p.column == column for p in problems):
                    continue  # already explained better
                checked.add(RowError(row, src.label(column), message))
            continue
        if row in checked.errors:
            continue
        doc_hash = lookup_hash("doc", clean.doc_number)
        key = (clean.doc_type, doc_hash)
        if key in seen:
            checked.add(
                RowError(
                    row,
                    src.label("doc_number"),
                    _("Same document as row %(row)s of this file.") % {"row": seen[key]},
                )
            )
            continue
        seen[key] = row
        checked.valid.append(_Valid(row, clean, doc_hash))
    # Already registered? Look the keyed hashes up in chunks (indexed).
    for chunk in _chunks(checked.valid):
        found = set(
            Person.objects.active()
            .filter(doc_hash__in=[v.doc_hash for v in chunk])
            .values_list("doc_type", "doc_hash")
        )
        for v in chunk:
            if (v.clean.doc_type, v.doc_hash) in found:
                checked.add(
                    RowError(
                        v.row,
                        src.label("doc_number"),
                        _("A person with this document is already registered."),
                    )
                )
    if checked.errors:
        checked.valid = [v for v in checked.valid if v.row not in checked.errors]
    return checked


def _row_building(
    src: _Source,
    cells: list[Any],
    by_code: dict[str, Jurisdiction],
    by_id: dict[int, Jurisdiction],
    row: int,
    checked: _Checked,
) -> Jurisdiction | None:
    code = _text(src.cell(cells, "building_code"))
    bid = _text(src.cell(cells, "building_id"))
    node = None
    if code:
        node = by_code.get(code)
        if node is None:
            checked.add(
                RowError(
                    row,
                    src.label("building_code"),
                    _("No building with code “%(ref)s” in your jurisdiction.") % {"ref": code},
                )
            )
            return None
    if bid:
        by_number = by_id.get(int(bid)) if bid.isdigit() else None
        if by_number is None:
            checked.add(
                RowError(
                    row,
                    src.label("building_id"),
                    _("No building with id “%(ref)s” in your jurisdiction.") % {"ref": bid},
                )
            )
            return None
        if node is not None and node.pk != by_number.pk:
            checked.add(
                RowError(
                    row,
                    src.label("building_id"),
                    _("The building id and the building code name different buildings."),
                )
            )
            return None
        node = by_number
    return node


def _error_file(src: _Source, errors: dict[int, list[RowError]]) -> bytes:
    """The rejected rows as CSV (UTF-8 with BOM, for Excel) with an ``error`` column."""
    out = io.StringIO()
    writer = csv.writer(out)
    keep = [i for i, h in enumerate(src.headers) if _norm_header(h) != "error"]
    writer.writerow([*(src.headers[i] for i in keep), "error"])
    for row, cells in src.rows():
        problems = errors.get(row)
        if not problems:
            continue
        values = [_text(cells[i]) if i < len(cells) else "" for i in keep]
        message = "; ".join(f"{p.column}: {p.message}" for p in problems)
        writer.writerow([*values, _("Row %(row)s: %(message)s") % {"row": row, "message": message}])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _audit_fields(actor: Actor) -> dict[str, Any]:
    ctx = current_request()
    profile = permissions.staff_profile(actor)
    user = acting_user(actor)
    return {
        "actor": user,
        "actor_username": user.get_username() if user else "system",
        "actor_roles": ",".join(permissions.role_codes_of(user)) if user else "",
        "actor_jurisdiction_path": profile.jurisdiction.path if profile else "",
        "request_id": ctx.request_id if ctx else "",
        "client_ip": ctx.client_ip if ctx else None,
    }


def _write(
    *,
    actor: Actor,
    valid: list[_Valid],
    scope: str,
    import_id: str,
    reason: str,
) -> int:
    through = Person.key_groups.through
    common = _audit_fields(actor)
    now = timezone.now()
    created = 0
    for batch in _chunks(valid, WRITE_BATCH):
        people = [person_instance(v.clean, scope_path=scope) for v in batch]
        Person.objects.bulk_create(people, batch_size=WRITE_BATCH)
        links: list[Any] = []
        entries = []
        for v, person in zip(batch, people, strict=True):
            assert person.pk is not None, "bulk_create must return primary keys"
            links.extend(through(person_id=person.pk, keygroup_id=g.pk) for g in v.clean.key_groups)
            snapshot = {
                **_person_snapshot(person),
                "key_groups": [g.code for g in v.clean.key_groups],
            }
            entries.append(
                AuditEntry(
                    **common,
                    time=now,
                    action="person.create",
                    object_type="core.person",
                    object_id=str(person.pk),
                    scope_path=person.scope_path,
                    person_id=person.pk,
                    changes={**diff({}, snapshot), "import_id": [None, import_id]},
                    reason=reason,
                )
            )
        if links:
            through.objects.bulk_create(links, batch_size=WRITE_BATCH)
        AuditEntry.objects.bulk_create(entries, batch_size=WRITE_BATCH)
        created += len(people)
    return created


def people_import(
    *,
    actor: Actor,
    fileobj: Any,
    filename: str,
    mode: str = "all_or_nothing",
    on_progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import people from a CSV or XLSX file (see the module docstring).

    Raises FileRejected / FileTooLarge for a file that cannot be read at all and
    ImportRejected (nothing written) for invalid rows in ``all_or_nothing`` mode.
    """
    permissions.require(actor, "person.import")
    if mode not in MODES:
        raise ValidationFailed(
            fields={"mode": _("Choose all_or_nothing or valid_only.")},
        )
    scope = permissions.scope_path(actor)
    if scope is None:
        raise NotFound()
    progress = on_progress or (lambda _msg: None)
    f = open_upload(fileobj, filename=filename)
    src = _Source(f, sniff_kind(f, filename=filename), filename)
    src.read_header()
    progress(_("Checking the rows…"))
    checked = _check_rows(src, scope)
    errors = sorted(
        (e for row_errors in checked.errors.values() for e in row_errors), key=lambda e: e.row
    )
    result = ImportResult(
        created=0,
        rejected=len(checked.errors),
        errors=errors,
        mode=mode,
        rows=checked.rows,
    )
    if checked.errors:
        result.error_file = _error_file(src, checked.errors)
        if mode == "all_or_nothing":
            raise ImportRejected(result.errors, result=result)
    import_id = uuid.uuid4().hex
    result.import_id = import_id
    reason = _("Imported from the file “%(name)s”.") % {"name": filename}
    progress(_("Writing %(count)s people…") % {"count": len(checked.valid)})
    try:
        with transaction.atomic():
            result.created = _write(
                actor=actor,
                valid=checked.valid,
                scope=scope,
                import_id=import_id,
                reason=reason,
            )
            audit_record(
                actor=actor,
                action="person.import",
                object_type="core.import",
                object_id=import_id,
                scope_path=scope,
                changes={
                    "file": [None, filename],
                    "mode": [None, mode],
                    "rows": [None, result.rows],
                    "created": [None, result.created],
                    "rejected": [None, result.rejected],
                },
                reason=reason,
            )
    except IntegrityError:
        raise Conflict(
            _(
                "Someone registered one of these people while the file was being imported; "
                "nothing was imported. Import the file again."
            ),
            code="import_conflict",
        ) from None
    return result
