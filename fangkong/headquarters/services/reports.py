"""The daily report (日报): made every morning by the worker at the area's time
(``ReportSchedule``, data) and on demand, archived (``DailyReport``) and sent to
the area's distribution list through notify.

The content is written once, in both languages, as plain sections (figures, a
chart, tables): the figures of the command dashboard, yesterday's new cases by
place (never a person), the decisions taken since yesterday morning (zones
declared, changed or lifted; manual status changes decided) and the overdue
items. HTML, PDF and XLSX are rendered from that snapshot
(``headquarters.report_render``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor, acting_user
from fangkong.headquarters.models import DailyReport, ReportSchedule
from fangkong.headquarters.selectors.dashboard import area_for, dashboard_for
from fangkong.investigation.selectors import shared as investigation
from fangkong.notify.services import notify_system
from fangkong.status.selectors import shared as status
from fangkong.zones.selectors import shared as zones

logger = logging.getLogger(__name__)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
PLACE_DEPTH = 20  # district, subdistrict, community: places are named down to a community
NEW_CASE_ROWS = 1000


def _figures(label: str, rows: list[tuple[str, Any]]) -> dict[str, Any]:
    return {"kind": "figures", "heading": label, "rows": [[str(k), v] for k, v in rows]}


def _table(label: str, header: list[str], rows: list[list[Any]], note: str = "") -> dict[str, Any]:
    return {
        "kind": "table",
        "heading": label,
        "header": [str(h) for h in header],
        "rows": [[v if isinstance(v, int | float) else str(v) for v in r] for r in rows],
        "note": note,
    }


def _place_names(paths: set[str]) -> dict[str, str]:
    """Each path's place, named from its district down to its community."""
    wanted: set[str] = set()
    for p in paths:
        wanted.update(p[:i] for i in range(12, min(len(p), PLACE_DEPTH) + 1, 4))
    names = {
        j.path: j.name
        for j in Jurisdiction.objects.filter(path__in=wanted).only("path", "name_zh", "name_en")
    }
    out = {}
    for p in paths:
        parts = [names[p[:i]] for i in range(12, min(len(p), PLACE_DEPTH) + 1, 4) if p[:i] in names]
        out[p] = " ".join(parts) or _("Above the districts")
    return out


def _when(at: dt.datetime) -> str:
    return str(formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT"))


def _content(user: Actor, node: Jurisdiction, now: dt.datetime) -> dict[str, Any]:
    """The report in the active language."""
    data = dashboard_for(user, area_id=node.pk)
    today = timezone.localdate(now)
    yesterday = today - dt.timedelta(days=1)
    since = timezone.make_aware(dt.datetime.combine(yesterday, dt.time.min))
    series = data["cases"]["series"]
    dates = data["cases"]["dates"]
    y_index = dates.index(yesterday.isoformat()) if yesterday.isoformat() in dates else None
    new_confirmed = series["confirmed"][y_index] if y_index is not None else 0
    new_asymptomatic = series["asymptomatic"][y_index] if y_index is not None else 0
    contacts, retests, st, zf, arr = (
        data["contacts"],
        data["retests"],
        data["status"],
        data["zones"],
        data["arrivals"],
    )
    sla_overdue = sum(r.overdue for r in data["rounds"])
    overdue = [
        (_("Overdue retests"), retests.overdue),
        (_("Tasks past their deadline"), data["tasks_overdue"]),
        (_("Appeals past their deadline"), st.appeals_overdue),
        (_("Door-step requests past their deadline"), zf.requests_overdue),
        (_("Transfers past their time"), arr.transfers_overdue),
        (_("Tubes past a turnaround time"), sla_overdue),
        (_("Contacts lost to follow-up"), contacts.lost),
    ]
    sections: list[dict[str, Any]] = [
        _figures(
            _("Figures"),
            [
                (_("New confirmed cases yesterday"), new_confirmed),
                (_("New asymptomatic infections yesterday"), new_asymptomatic),
                (_("New cases in 14 days"), data["cases_period"]),
                (_("Suspected cases"), data["suspected"]),
                (_("Contacts under monitoring"), contacts.under_monitoring),
                (_("Followed up today"), f"{contacts.followed_up_today} / {contacts.due_today}"),
                (_("Positive pools awaiting retest"), retests.pools_waiting),
                (_("Manual status changes waiting"), st.manual_pending),
                (_("Lifting recommended"), zf.lifting_recommended),
                *[
                    (_("Zones in force: %(level)s") % {"level": lv.name}, lv.zones)
                    for lv in zf.levels
                ],
                (_("Arrivals today"), arr.arrived),
                (_("Waiting for a transfer"), arr.waiting_transfer),
                (_("Transfers on their way"), arr.transfers_open),
            ],
        ),
        {
            "kind": "chart",
            "heading": _("New cases by day"),
            "dates": dates,
            "labels": [
                str(formats.date_format(dt.date.fromisoformat(d), "MONTH_DAY_FORMAT"))
                for d in dates
            ],
            "series": [
                {"name": pgettext("case classification", "Confirmed"), "data": series["confirmed"]},
                {"name": _("Asymptomatic infection"), "data": series["asymptomatic"]},
            ],
        },
    ]
    cases = investigation.new_cases_on(node.path, yesterday, limit=NEW_CASE_ROWS)
    places = _place_names({c.scope_path for c in cases})
    sections.append(
        _table(
            _("New cases yesterday by place"),
            [_("Place"), _("Classification"), _("How found"), _("Disease")],
            [[places[c.scope_path], c.classification, c.found_by, c.disease] for c in cases],
            note=_("Places are named down to the community; people are never named."),
        )
    )
    decisions = [
        (
            d.decided_at,
            [
                _when(d.decided_at),
                _("Zone: %(kind)s") % {"kind": d.kind},
                f"{d.zone} · {d.level}",
                d.decision_number or "—",
            ],
        )
        for d in zones.zone_decisions_between(node.path, since, now)
    ] + [
        (
            m.decided_at,
            [
                _when(m.decided_at),
                _("Manual status change: %(action)s, %(outcome)s")
                % {"action": m.action, "outcome": m.outcome},
                _("%(people)s people, %(level)s, basis: %(basis)s")
                % {"people": m.people, "level": m.level or "—", "basis": m.basis},
                "—",
            ],
        )
        for m in status.manual_decisions_between(node.path, since, now)
    ]
    decisions.sort(key=lambda d: d[0])
    sections.append(
        _table(
            _("Decisions taken since yesterday"),
            [
                _("Time"),
                _("Decision"),
                _("Details"),
                pgettext("official document", "Document number"),
            ],
            [row for _at, row in decisions],
        )
    )
    sections.append(
        _table(
            _("Overdue items"),
            [_("Item"), _("Count")],
            [[k, v] for k, v in overdue],
        )
    )
    if data["districts"]:
        sections.append(
            _table(
                _("Districts"),
                [
                    _("District"),
                    _("New cases today"),
                    _("New cases in 7 days"),
                    _("Overdue retests"),
                    _("Tasks past their deadline"),
                ],
                [
                    [d.name, d.cases_today, d.cases_week, d.retests_overdue, d.tasks_overdue]
                    for d in data["districts"]
                ],
            )
        )
    for r in data["rounds"]:
        sections.append(
            _table(
                _("Screening coverage: %(name)s") % {"name": r.round_name},
                [_("District"), _("People expected"), _("Sampled"), _("Coverage (percent)")],
                [[d.name, d.expected, d.sampled, d.coverage] for d in r.districts],
                note=" · ".join(r.rules),
            )
        )
    if data["supplies"]:
        sections.append(
            _table(
                _("Days of supply by district"),
                [
                    _("District"),
                    _("Runs out first"),
                    _("Days of supply"),
                    _("Items below the alert line"),
                ],
                [
                    [
                        d.name,
                        d.lowest_item or "—",
                        float(d.lowest_days) if d.lowest_days is not None else "—",
                        d.items_alert,
                    ]
                    for d in data["supplies"]
                ],
            )
        )
    if data["occupancy"]:
        sections.append(
            _table(
                _("Quarantine occupancy and the next tier"),
                [_("Area"), _("Rooms in use"), _("Usable rooms"), _("Next site")],
                [
                    [p.area, p.occupied_rooms, p.usable_rooms, p.next_site or "—"]
                    for p in data["occupancy"]
                ],
            )
        )
    if data["beds"]:
        sections.append(
            _table(
                _("Hospital beds"),
                [_("Hospital"), _("Beds"), _("In use"), _("Total")],
                [[b.hospital, b.bed_type, b.used, b.total] for b in data["beds"]],
            )
        )
    return {
        "title": _("Daily report of %(area)s") % {"area": node.name},
        "area": node.name,
        "date": str(formats.date_format(today, "DATE_FORMAT")),
        "made_at": _when(now),
        "period": _("New cases and decisions since %(since)s; other figures as of %(now)s.")
        % {"since": _when(since), "now": _when(now)},
        "sections": sections,
        "sms": {
            "confirmed": new_confirmed,
            "asymptomatic": new_asymptomatic,
            "overdue": sum(v for _k, v in overdue),
        },
    }


def report_content(user: Actor, node: Jurisdiction, now: dt.datetime) -> dict[str, Any]:
    """The report in every language of the site."""
    out = {}
    for code in LANGUAGE_CODES:
        with translation.override(code):
            out[code] = _content(user, node, now)
    return out


def daily_report_make(
    *, actor: Actor, area_id: int | None = None, now: dt.datetime | None = None
) -> DailyReport:
    """Make the report of an area of the actor's (their own by default) now, on
    demand; archived, not sent."""
    permissions.require(actor, "hq.dashboard")
    now = now or timezone.now()
    node = area_for(actor, area_id)
    content = report_content(actor, node, now)
    with transaction.atomic():
        report = DailyReport.objects.create(
            area=node,
            scope_path=node.path,
            day=timezone.localdate(now),
            made_by=acting_user(actor),
            content=content,
        )
        audit_record(
            actor=actor,
            action="daily_report.make",
            obj=report,
            scope_path=node.path,
            changes={"day": [None, report.day.isoformat()]},
        )
    return report


def daily_reports_due(now: dt.datetime | None = None) -> list[int]:
    """The morning job: for every active schedule whose time has come today and whose
    report is not made yet, make it in its officer's name and send it to its list.
    Idempotent (one scheduled report per area and day). Returns the reports made."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    made: list[int] = []
    failed: list[str] = []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("area", "issued_by"):
        if local.time() < schedule.at:
            continue
        if DailyReport.objects.filter(
            area=schedule.area, day=local.date(), scheduled=True
        ).exists():
            continue
        # One area's failure (its issuing officer lost the right, say) must not
        # keep the other areas' reports from being made: each is tried, and the
        # failures are logged and raised together at the end, never dropped.
        try:
            report = _scheduled_make(schedule, now)
        except Exception as exc:
            logger.exception("daily report of %s not made", schedule.area.name)
            failed.append(f"{schedule.area.name}: {exc!r}")
            continue
        if report is not None:
            made.append(report.pk)
    if failed:
        raise DailyReportsFailed(made, failed)
    return made


class DailyReportsFailed(RuntimeError):
    """Some areas' scheduled reports could not be made (the others were)."""

    def __init__(self, made: list[int], failed: list[str]) -> None:
        super().__init__(f"{len(failed)} daily report(s) not made: " + "; ".join(failed))
        self.made = made
        self.failed = failed


def _scheduled_make(schedule: ReportSchedule, now: dt.datetime) -> DailyReport | None:
    node = schedule.area
    content = report_content(schedule.issued_by, node, now)
    with transaction.atomic():
        try:
            with transaction.atomic():  # one scheduled report an area and day
                report = DailyReport.objects.create(
                    area=node,
                    scope_path=node.path,
                    day=timezone.localdate(now),
                    scheduled=True,
                    made_by=schedule.issued_by,
                    content=content,
                )
        except IntegrityError:  # another worker made today's report first: nothing to do
            return None
        audit_record(
            actor=None,
            action="daily_report.make",
            obj=report,
            scope_path=node.path,
            changes={"day": [None, report.day.isoformat()], "scheduled": [None, True]},
        )
        report.sent_to = _send(schedule, report)
        report.save(update_fields=["sent_to", "updated_at"])
    return report


def _send(schedule: ReportSchedule, report: DailyReport) -> int:
    """Queue the report's SMS to each person of the list (in their language), once."""
    sent = 0
    recipients = schedule.recipients.filter(active=True).values_list("person_id", flat=True)
    for person in Person.objects.filter(pk__in=list(recipients)):
        lang = person.language if person.language in report.content else LANGUAGE_CODES[0]
        body = report.content[lang]
        notify_system(
            person=person,
            purpose="daily_report",
            template_code="daily_report",
            context={"area": body["area"], "date": body["date"], **body["sms"]},
            dedup_key=f"daily-report-{report.pk}",
        )
        sent += 1
    return sent
