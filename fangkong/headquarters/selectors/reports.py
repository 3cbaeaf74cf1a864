"""Reads of the daily report archive, scoped to the user's area (outside it: 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import path_upper_bound
from fangkong.core.types import Actor
from fangkong.headquarters.models import DailyReport, ReportSchedule


def report_list_for(user: Actor) -> QuerySet[DailyReport]:
    permissions.require(user, "hq.dashboard")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return DailyReport.objects.none()
    qs = DailyReport.objects.select_related("area")
    if prefix:
        qs = qs.filter(scope_path__gte=prefix, scope_path__lt=path_upper_bound(prefix))
    return qs.defer("content").order_by("-day", "-created_at", "-id")


def access_report_by_id(user: Actor, report_id: int) -> DailyReport:
    permissions.require(user, "hq.dashboard")
    prefix = permissions.scope_path(user)
    report = DailyReport.objects.select_related("area").filter(pk=report_id).first()
    if report is None or prefix is None or not report.scope_path.startswith(prefix):
        raise NotFound()
    return report


def report_body(report: DailyReport, language: str | None = None) -> dict[str, Any]:
    """The report's content in ``language`` (the active one by default)."""
    lang = (language or translation.get_language() or "").lower()
    content: dict[str, Any] = report.content
    if lang in content:
        return dict(content[lang])
    for code, body in content.items():
        if lang.split("-")[0] == code.split("-")[0]:
            return dict(body)
    return dict(next(iter(content.values())))


def schedules_for(user: Actor) -> list[ReportSchedule]:
    """The report schedules of the user's area (when each area's report is made)."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    qs = ReportSchedule.objects.filter(active=True).select_related("area")
    if prefix:
        qs = qs.filter(area__path__gte=prefix, area__path__lt=path_upper_bound(prefix))
    return list(qs.order_by("area__path"))
