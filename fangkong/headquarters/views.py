"""Headquarters pages: the "my work" inbox, tasks (list, new, one task with its
actions). Thin: validate with a form, call one service or selector, render.
Domain errors land on the form (422) or as a message; outside the area is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.errors import PermissionDenied
from fangkong.core.pdf import pdf_response
from fangkong.core.sheets import XLSX_TYPE
from fangkong.core.types import Actor
from fangkong.core.views import INVALID, post_form, staff_page, submit_form
from fangkong.headquarters import forms, report_render, selectors, services
from fangkong.headquarters.models import Task, TaskKind
from fangkong.headquarters.selectors import dashboard as dashboard_selectors
from fangkong.headquarters.selectors import reports as report_selectors
from fangkong.headquarters.services import reports as report_services

LIST_SIZE = 300


def _user(request: HttpRequest) -> Actor:
    user: Actor = request.user
    return user


def _require_any(user: Actor, *caps: str) -> None:
    if not any(permissions.has_capability(user, c) for c in caps):
        raise PermissionDenied()


def _caps(user: Actor) -> dict[str, bool]:
    return {
        "can_assign": permissions.has_capability(user, "task.assign"),
        "can_dashboard": permissions.has_capability(user, "hq.dashboard"),
        "can_entry": permissions.has_capability(user, "entry.view"),
        "can_supplies": permissions.has_capability(user, "supplies.view"),
        "can_screening": permissions.has_capability(user, "screening.view"),
    }


@staff_page
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, "task.handle", "task.assign")
    box = selectors.inbox_for(user)
    return render(
        request,
        "headquarters/inbox.html",
        {"box": box, "now": timezone.now(), **_caps(user)},
    )


@staff_page
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, "task.handle", "task.assign")
    overdue = request.GET.get("overdue") == "1"
    state = request.GET.get("state") or Task.State.OPEN
    if state not in Task.State.values:
        state = Task.State.OPEN
    tasks = list(selectors.task_list_for(user, state=state, overdue=overdue)[:LIST_SIZE])
    return render(
        request,
        "headquarters/tasks.html",
        {
            "tasks": tasks,
            "overdue": overdue,
            "state": state,
            "states": Task.State.choices,
            "now": timezone.now(),
            "limit": LIST_SIZE,
            **_caps(user),
        },
    )


@staff_page
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "task.assign")
    form = forms.TaskForm(request.POST or None, user=user)
    done = submit_form(
        request,
        form,
        lambda d: services.task_create(
            actor=user,
            unit_id=d["unit"],
            title=d["title"],
            details=d["details"],
            priority=d["priority"],
            deadline=d["deadline"],
            assignee_id=d["assignee"],
        ),
        success=_("Task given."),
        redirect_to=lambda task: _back(task.pk),
    )
    if done is not None:
        return done
    return render(
        request,
        "headquarters/task_new.html",
        {"form": form, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


@staff_page
@require_GET
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.access_task_by_id(user, task_id)
    return render(
        request,
        "headquarters/task.html",
        {
            "task": task,
            "now": timezone.now(),
            "assign_form": forms.AssignForm(user=user, initial={"assignee": task.assignee_id}),
            "complete_form": forms.CompleteForm(),
            "cancel_form": forms.CancelForm(),
            **_caps(user),
        },
    )


def _back(task_id: int) -> str:
    return reverse("headquarters:task", kwargs={"task_id": task_id})


@staff_page
@require_POST
def task_assign(request: HttpRequest, task_id: int) -> HttpResponseBase:
    user = _user(request)
    selectors.access_task_by_id(user, task_id)
    return post_form(
        request,
        forms.AssignForm(request.POST, user=user),
        lambda d: services.task_assign(actor=user, task_id=task_id, assignee_id=d["assignee"]),
        success=_("Task given to someone else."),
        redirect_to=_back(task_id),
    )


@staff_page
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponseBase:
    user = _user(request)
    selectors.access_task_by_id(user, task_id)
    return post_form(
        request,
        forms.CompleteForm(request.POST),
        lambda d: services.task_complete(actor=user, task_id=task_id, note=d["note"]),
        success=_("Task marked done."),
        redirect_to=_back(task_id),
    )


@staff_page
@require_POST
def task_cancel(request: HttpRequest, task_id: int) -> HttpResponseBase:
    user = _user(request)
    selectors.access_task_by_id(user, task_id)
    return post_form(
        request,
        forms.CancelForm(request.POST),
        lambda d: services.task_cancel(actor=user, task_id=task_id, reason=d["reason"]),
        success=_("Task cancelled."),
        redirect_to=_back(task_id),
    )


def _area_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("area", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@staff_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = dashboard_selectors.dashboard_for(user, area_id=_area_id(request))
    chart = {
        "dates": data["cases"]["dates"],
        "series": [
            {"name": str(label), "data": data["cases"]["series"][code]}
            for code, label in (
                ("confirmed", pgettext("case classification", "Confirmed")),
                ("asymptomatic", _("Asymptomatic infection")),
            )
        ],
    }
    return render(request, "headquarters/dashboard.html", {**data, "chart": chart, **_caps(user)})


@staff_page
@require_GET
def overdue_retests(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = dashboard_selectors.overdue_retest_list(user, area_id=_area_id(request))
    return render(request, "headquarters/retests.html", {**data, **_caps(user)})


@staff_page
@require_POST
def rectification_order(request: HttpRequest) -> HttpResponseBase:
    """Give a district a rectification task for its overdue retests (one service call)."""
    user = _user(request)
    return post_form(
        request,
        forms.RectifyForm(request.POST),
        lambda d: services.task_create(
            actor=user,
            unit_id=d["unit"],
            kind=TaskKind.RECTIFICATION,
            priority="high",
            title=_("Clear the overdue single-tube retests"),
            details=d["details"],
            deadline=timezone.now() + dt.timedelta(hours=d["hours"]),
        ),
        success=_("Rectification task given to the district."),
        redirect_to=reverse("headquarters:retests"),
    )


# --- Daily reports ------------------------------------------------------------------


@staff_page
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    reports = list(report_selectors.report_list_for(user)[:LIST_SIZE])
    home = dashboard_selectors.area_for(user, None)
    areas = [home, *[d for d in dashboard_selectors.district_nodes(home) if d.pk != home.pk]]
    return render(
        request,
        "headquarters/reports.html",
        {
            "reports": reports,
            "areas": areas,
            "schedules": report_selectors.schedules_for(user),
            **_caps(user),
        },
    )


@staff_page
@require_POST
def report_make(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    raw = request.POST.get("area", "")
    area_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    report = report_services.daily_report_make(actor=user, area_id=area_id)
    messages.success(request, _("Daily report made."))
    return redirect("headquarters:report", report_id=report.pk)


@staff_page
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    report = report_selectors.access_report_by_id(user, report_id)
    body = report_selectors.report_body(report)
    return render(
        request, "headquarters/report.html", {"report": report, "body": body, **_caps(user)}
    )


def _report_filename(report: Any, ext: str) -> str:
    return f"daily-report-{report.area_id}-{report.day:%Y%m%d}.{ext}"


@staff_page
@require_GET
def report_pdf(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    report = report_selectors.access_report_by_id(user, report_id)
    data = report_render.report_pdf(report_selectors.report_body(report))
    return pdf_response(data, _report_filename(report, "pdf"))


@staff_page
@require_GET
def report_xlsx(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    report = report_selectors.access_report_by_id(user, report_id)
    data = report_render.report_xlsx(report_selectors.report_body(report))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_report_filename(report, "xlsx")}"'
    response["Cache-Control"] = "no-store"
    return response
