"""Lab results (检/报): through the API or a CSV file, idempotent.

- A tube's first result is applied; the same result again changes nothing; a
  different result is a conflict listed for review, never an overwrite.
- Results for unknown tubes, or tubes this lab never received, are held for
  review and not applied (and flag the lab).
- Rows are all validated first: any malformed row (``RowError``: the file's row
  number, header = row 1; column; message) and nothing is imported.
- Every report is kept (``ResultReport``: time, lab, user, result, what became of
  it). That row is the "reported" link of the tube's chain of custody
  (``selectors.tube_chain``); no second custody row repeats it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import foureyes, permissions
from fangkong.core.audit import audit_record
from fangkong.core.bulk import gc_paused
from fangkong.core.tabular import (
    FileRejected,
    ImportRejected,
    RowError,
    check_size,
    decode_text,
    read_table,
)
from fangkong.core.types import Actor, acting_user
from fangkong.screening.models import Lab, ResultReport, Tube
from fangkong.screening.services.custody import access_lab
from fangkong.screening.services.followup import results_apply_consequences
from fangkong.screening.sql import copy_rows, select_in, time_adapter, update_rows

RESULTS = ("negative", "positive", "invalid")
CHUNK = 5000


@dataclass
class ResultRow:
    tube: str
    result: str
    ct_values: dict[str, float] = field(default_factory=dict)
    reported_at: dt.datetime | None = None


@dataclass
class ResultReportSummary:
    rows: int = 0
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0
    held: int = 0
    consequences: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ct(value: Any, *, row: int, column: str, errors: list[RowError]) -> float | None:
    try:
        ct = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(RowError(row, column, _("A Ct value is a number.")))
        return None
    if not ct.is_finite() or not Decimal(0) < ct <= Decimal(50):
        errors.append(RowError(row, column, _("A Ct value is between 0 and 50.")))
        return None
    return float(ct)


def rows_validate(raw: Sequence[dict[str, Any]]) -> list[ResultRow]:
    """Check every row; raise one ImportRejected listing every problem.

    A row's number is its ``row`` key when the rows come from a file (the
    spreadsheet's row number, ``csv_parse``), else its position in the list from 1.
    """
    errors: list[RowError] = []
    out: list[ResultRow] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(raw, start=1):
        n = item["row"] if isinstance(item.get("row"), int) else index
        before = len(errors)
        tube = str(item.get("tube") or "").strip()
        if not tube or len(tube) > 64:
            errors.append(RowError(n, "tube", _("A tube barcode is required.")))
        result = str(item.get("result") or "").strip().lower()
        if result not in RESULTS:
            errors.append(RowError(n, "result", _("A result is negative, positive or invalid.")))
        cts: dict[str, float] = {}
        for key, value in (item.get("ct_values") or {}).items():
            if value in (None, ""):
                continue
            ct = _ct(value, row=n, column=f"ct_{key}", errors=errors)
            if ct is not None:
                cts[str(key)] = ct
        if result == "positive" and not cts and len(errors) == before:
            errors.append(
                RowError(
                    n,
                    "ct_values",
                    _("A positive result needs the Ct value of at least one gene target."),
                )
            )
        at = item.get("reported_at")
        when: dt.datetime | None = None
        if at not in (None, ""):
            if isinstance(at, dt.datetime):
                when = at
            else:
                try:
                    when = dt.datetime.fromisoformat(str(at).strip())
                except ValueError:
                    errors.append(RowError(n, "reported_at", _("Not a date and time.")))
            if when is not None and timezone.is_naive(when):
                when = timezone.make_aware(when)
            if when is not None and when > timezone.now() + dt.timedelta(minutes=5):
                errors.append(RowError(n, "reported_at", _("The time is in the future.")))
        if tube and result in RESULTS:
            if seen.get(tube, result) != result:
                errors.append(
                    RowError(n, "result", _("The file gives this tube two different results."))
                )
            seen[tube] = result
        if len(errors) == before:
            out.append(ResultRow(tube, result, cts, when))
    if errors:
        raise ImportRejected(errors)
    return out


def csv_parse(data: bytes) -> list[dict[str, Any]]:
    """CSV columns: ``tube``, ``result``, optional ``reported_at`` and ``ct_<gene>``.

    Each row keeps its spreadsheet row number (``row``, header = row 1)."""
    table = read_table(decode_text(check_size(data)))
    missing = [c for c in ("tube", "result") if c not in table.columns]
    if missing:
        raise FileRejected(
            _("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)},
            extra={"missing_columns": missing},
        )
    # Gene targets as the header writes them (ct_ORF1ab -> "ORF1ab").
    genes = {name[3:]: i for i, name in enumerate(table.header) if name.lower().startswith("ct_")}
    rows = []
    for number, cells in table.rows:
        rows.append(
            {
                "row": number,
                "tube": table.cell(cells, "tube"),
                "result": table.cell(cells, "result"),
                "reported_at": table.cell(cells, "reported_at"),
                "ct_values": {
                    gene: cells[i].strip() if i < len(cells) else "" for gene, i in genes.items()
                },
            }
        )
    return rows


@gc_paused()
def results_import(
    *, actor: Actor, lab_id: int, rows: Sequence[dict[str, Any]], source: str = "api"
) -> ResultReportSummary:
    """Report results of a lab (API or CSV rows). All or nothing; idempotent."""
    permissions.require(actor, "screening.lab")
    lab = access_lab(actor, lab_id)
    clean = rows_validate(rows)
    summary = ResultReportSummary(rows=len(clean))
    now = timezone.now()
    user_id = user.pk if (user := acting_user(actor)) else None
    applied_tubes: list[Any] = []
    with transaction.atomic():
        for k in range(0, len(clean), CHUNK):
            part = clean[k : k + CHUNK]
            applied_tubes.extend(_import_chunk(lab, part, summary, now, user_id))
        summary.consequences = results_apply_consequences(actor=actor, tubes=applied_tubes)
        audit_record(
            actor=actor,
            action="screening.results.import",
            obj=lab,
            scope_path=lab.scope_path,
            changes={
                "source": [None, source],
                "applied": [None, summary.applied],
                "conflicts": [None, summary.conflicts],
                "held": [None, summary.held],
            },
        )
    return summary


def _import_chunk(
    lab: Lab,
    part: list[ResultRow],
    summary: ResultReportSummary,
    now: dt.datetime,
    user_id: int | None,
) -> list[Any]:
    """Apply one chunk; the applied tubes (``AppliedTube`` for negatives, a ``Tube``
    for the others) for ``results_apply_consequences``."""
    codes = [r.tube for r in part]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    tube_sql = (
        "SELECT barcode, id, round_id, lab_id, received_at IS NOT NULL, result, capacity, "
        "member_count, scope_path, state FROM screening_tube WHERE barcode {in}"
    )
    # Plain rows; a Tube instance only for the few positive and invalid results.
    tubes = {row[0]: _TubeRow(*row) for row in select_in(tube_sql + lock, codes)}
    # Reports already held or in conflict for these tubes (so a repeat adds nothing).
    pending = {
        (code, result)
        for code, result in select_in(
            "SELECT tube_barcode, result FROM screening_resultreport "
            "WHERE lab_id = %s AND status IN ('conflict', 'held_unknown', 'held_not_received') "
            "AND tube_barcode {in}",
            codes,
            [lab.pk],
        )
    }
    reports: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    applied: list[Any] = []
    fresh: dict[str, str] = {}  # tubes given their result by this chunk (repeats: duplicates)
    lab_pk, lab_path = lab.pk, lab.scope_path
    applied_status, conflict_status = ResultReport.Status.APPLIED, ResultReport.Status.CONFLICT
    reported = Tube.State.REPORTED
    negative = Tube.Result.NEGATIVE
    db_at = time_adapter()  # the rows' times as copy_rows writes them, each converted once
    db_now = db_at(now)
    for r in part:
        tube = tubes.get(r.tube)
        at = r.reported_at or now
        if tube is None:
            status = ResultReport.Status.HELD_UNKNOWN
        elif tube.result or r.tube in fresh:
            if (tube.result or fresh[r.tube]) == r.result:
                summary.duplicates += 1
                continue
            status = conflict_status
        elif tube.lab_id != lab_pk or not tube.received:
            status = ResultReport.Status.HELD_NOT_RECEIVED
        else:
            status = applied_status
        if status != applied_status:
            if (r.tube, r.result) in pending:
                summary.duplicates += 1
                continue
            pending.add((r.tube, r.result))
            if status == conflict_status:
                summary.conflicts += 1
            else:
                summary.held += 1
        else:
            assert tube is not None
            pk = tube.pk
            fresh[r.tube] = r.result
            summary.applied += 1
            updates.append((r.result, at, reported, now, pk))
            if r.result == negative:
                applied.append(AppliedTube(pk, r.result))
            else:
                applied.append(_tube(tube, r.result, at))
        reports.append(
            (
                db_now,
                db_now,
                r.tube,
                tube.pk if tube is not None else None,
                lab_pk,
                r.result,
                _json(r.ct_values),
                db_at(at),
                user_id,
                status,
                tube.scope_path if tube is not None else lab_path,
            )
        )
    update_rows(Tube._meta.db_table, ["result", "reported_at", "state", "updated_at"], updates)
    copy_rows(
        ResultReport._meta.db_table,
        [
            "created_at",
            "updated_at",
            "tube_barcode",
            "tube_id",
            "lab_id",
            "result",
            "ct_values",
            "reported_at",
            "reported_by_id",
            "status",
            "scope_path",
        ],
        reports,
        adapted=True,
    )
    return applied


class AppliedTube(NamedTuple):
    """A tube whose negative result was just applied (all its consequences need)."""

    pk: int
    result: str


class _TubeRow(NamedTuple):
    """A tube as the import reads it (the columns of ``tube_sql``, in order)."""

    barcode: str
    pk: int
    round_id: int
    lab_id: int | None
    received: bool
    result: str
    capacity: int
    member_count: int
    scope_path: str
    state: str


def _tube(row: _TubeRow, result: str, at: dt.datetime) -> Tube:
    return Tube(
        pk=row.pk,
        barcode=row.barcode,
        round_id=row.round_id,
        lab_id=row.lab_id,
        result=result,
        reported_at=at,
        capacity=row.capacity,
        member_count=row.member_count,
        scope_path=row.scope_path,
        state=Tube.State.REPORTED,
    )


def _json(value: dict[str, float]) -> str:
    if not value:
        return "{}"
    return json.dumps(value, separators=(",", ":"))


def report_review(*, actor: Actor, report_id: int, note: str = "") -> ResultReport:
    """A reviewer closes a held or conflicting report (the decision is audited);
    four eyes: the reviewer is not the reporter (``core.foureyes``)."""
    permissions.require(actor, "screening.manage")
    with transaction.atomic():
        report = ResultReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or not permissions.in_scope(actor, report.scope_path):
            from fangkong.core.errors import NotFound

            raise NotFound()
        # A review is a second person's: not the lab account that reported the
        # result, nor an account linked to it.
        foureyes.require_second_person(
            actor=actor,
            first_id=report.reported_by_id,
            own_message=_("You reported this result; another person must review it."),
            own_code="own_report",
        )
        before = report.status
        report.status = ResultReport.Status.RESOLVED
        report.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="screening.result.review",
            obj=report,
            scope_path=report.scope_path,
            changes={"status": [before, report.status]},
            reason=note,
        )
    return report
