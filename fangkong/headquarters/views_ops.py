"""Pages of supervision inspections, accountability, task forces, the duty roster
and frontline staff care. Thin: validate with a form, call one service or
selector, render; outside the area is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import permissions
from fangkong.core.errors import PermissionDenied
from fangkong.core.types import Actor
from fangkong.core.views import INVALID, post_form, staff_page, submit_form
from fangkong.headquarters import forms_ops as forms
from fangkong.headquarters import services
from fangkong.headquarters.models import Accountability, InspectionPlan
from fangkong.headquarters.selectors import ops
from fangkong.headquarters.services.inspections import PHOTO_MAX_BYTES

LIST_SIZE = 300


def _user(request: HttpRequest) -> Actor:
    user: Actor = request.user
    return user


def _require_any(user: Actor, *caps: str) -> None:
    if not any(permissions.has_capability(user, c) for c in caps):
        raise PermissionDenied()


def _caps(user: Actor) -> dict[str, bool]:
    has = permissions.has_capability
    return {
        "can_assign": has(user, "task.assign"),
        "can_dashboard": has(user, "hq.dashboard"),
        "can_plan": has(user, "inspection.plan"),
        "can_inspect": has(user, "inspection.conduct"),
        "can_propose": has(user, "accountability.propose"),
        "can_decide": has(user, "accountability.decide"),
        "can_duty": has(user, "duty.manage"),
    }


# --- Inspections ----------------------------------------------------------------------


@staff_page
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, *ops.INSPECTION_CAPS)
    state = request.GET.get("state") or ""
    if state not in InspectionPlan.State.values:
        state = ""
    rows = list(ops.plan_list_for(user, state=state or None)[:LIST_SIZE])
    return render(
        request,
        "headquarters/plans.html",
        {"plans": rows, "state": state, "states": InspectionPlan.State.choices, **_caps(user)},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "inspection.plan")
    today = timezone.localdate()
    area = request.GET.get("area", "")
    form = forms.PlanForm(
        request.POST or None,
        user=user,
        initial={
            "starts_on": today,
            "ends_on": today + dt.timedelta(days=3),
            # Opened from a district's overdue retests: that district.
            "area": int(area) if area.isdigit() and len(area) < 10 else None,
        },
    )
    done = submit_form(
        request,
        form,
        lambda d: services.plan_create(
            actor=user,
            title=d["title"],
            area_id=d["area"],
            checklist_code=d["checklist"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            inspector_id=d["inspector"],
        ),
        success=_("Inspection planned; the inspector has it in their work."),
        redirect_to=lambda plan: reverse("headquarters:plan", args=[plan.pk]),
    )
    if done is not None:
        return done
    return render(
        request,
        "headquarters/plan_new.html",
        {"form": form, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


@staff_page
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _user(request)
    plan = ops.access_plan_by_id(user, plan_id)
    is_inspector = plan.inspector_id == getattr(user, "pk", None)
    visits = ops.plan_visits(plan)
    for v in visits:
        for f in v.finding_rows:
            # One re-inspection form a finding, each with its own field ids.
            f.reinspect_form = forms.ReinspectForm(auto_id=f"f{f.pk}_%s")
    return render(
        request,
        "headquarters/plan.html",
        {
            "plan": plan,
            "items": list(plan.checklist.items.order_by("position")),
            "visits": visits,
            "is_inspector": is_inspector,
            "close_form": forms.CloseForm(),
            "now": timezone.now(),
            **_caps(user),
        },
    )


def _photos(request: HttpRequest, item_id: int) -> tuple[bytes, ...]:
    # Read one byte past the limit: the service refuses a larger file by its size.
    return tuple(f.read(PHOTO_MAX_BYTES + 1) for f in request.FILES.getlist(f"photos_{item_id}"))


@staff_page
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, plan_id: int) -> HttpResponseBase:
    user = _user(request)
    plan = ops.access_plan_by_id(user, plan_id)
    if plan.inspector_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Only the plan's inspector records its visits."))
    items = list(plan.checklist.items.order_by("position"))
    form = forms.VisitForm(
        request.POST or None,
        request.FILES or None,
        plan=plan,
        items=items,
        initial={"visited_at": timezone.localtime().replace(second=0, microsecond=0)},
    )

    def record(d: dict[str, Any]) -> object:
        findings = [
            services.FindingIn(
                item_id=item.pk,
                result=d[f"result_{item.pk}"],
                note=d[f"note_{item.pk}"],
                deadline_hours=d[f"hours_{item.pk}"],
                photos=_photos(request, item.pk),
            )
            for item in items
        ]
        return services.visit_record(
            actor=user,
            plan_id=plan.pk,
            unit_id=d["unit"],
            place=d["place"],
            visited_at=d["visited_at"],
            summary=d["summary"],
            findings=findings,
        )

    done = submit_form(
        request,
        form,
        record,
        success=_("Visit recorded; each failed item went to the unit as a rectification task."),
        redirect_to=reverse("headquarters:plan", args=[plan.pk]),
    )
    if done is not None:
        return done
    return render(
        request,
        "headquarters/visit_new.html",
        {"form": form, "plan": plan, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


@staff_page
@require_POST
def finding_reinspect(request: HttpRequest, finding_id: int) -> HttpResponseBase:
    user = _user(request)
    finding = ops.access_finding_by_id(user, finding_id)
    return post_form(
        request,
        forms.ReinspectForm(request.POST),
        lambda d: services.finding_reinspect(
            actor=user, finding_id=finding_id, rectified=d["rectified"], note=d["note"]
        ),
        success=_("Re-inspection recorded."),
        redirect_to=reverse("headquarters:plan", args=[finding.visit.plan_id]),
    )


@staff_page
@require_POST
def plan_close(request: HttpRequest, plan_id: int) -> HttpResponseBase:
    user = _user(request)
    ops.access_plan_by_id(user, plan_id)
    return post_form(
        request,
        forms.CloseForm(request.POST),
        lambda d: services.plan_close(actor=user, plan_id=plan_id, note=d["note"]),
        success=_("Inspection plan closed."),
        redirect_to=reverse("headquarters:plan", args=[plan_id]),
    )


@staff_page
@require_GET
def finding_photo(request: HttpRequest, photo_id: int) -> HttpResponse:
    photo = ops.access_photo_by_id(_user(request), photo_id)
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Accountability -------------------------------------------------------------------


@staff_page
@require_GET
def accountability_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, *ops.ACCOUNTABILITY_CAPS)
    state = request.GET.get("state") or ""
    if state not in Accountability.State.values:
        state = ""
    rows = list(ops.accountability_list_for(user, state=state or None)[:LIST_SIZE])
    return render(
        request,
        "headquarters/accountability_list.html",
        {"records": rows, "state": state, "states": Accountability.State.choices, **_caps(user)},
    )


@staff_page
@require_http_methods(["GET", "POST"])
def accountability_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "accountability.propose")
    initial = {"failure": request.GET.get("failure", "")}
    form = forms.ProposeForm(request.POST or None, user=user, initial=initial)
    done = submit_form(
        request,
        form,
        lambda d: services.accountability_propose(
            actor=user,
            failure_kind=d["failure"][0],
            failure_id=d["failure"][1],
            party_kind=d["party_kind"],
            party_name=d["party_name"],
            measure=d["measure"],
            grounds=d["grounds"],
        ),
        success=_("Accountability proposed; a second person decides it."),
        redirect_to=lambda record: reverse("headquarters:accountability", args=[record.pk]),
    )
    if done is not None:
        return done
    return render(
        request,
        "headquarters/accountability_new.html",
        {"form": form, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def accountability_detail(request: HttpRequest, record_id: int) -> HttpResponseBase:
    user = _user(request)
    record = ops.access_accountability_by_id(user, record_id)
    form = forms.DecideForm(request.POST or None, initial={"measure": record.measure})
    if request.method == "POST":
        permissions.require(user, "accountability.decide")
    done = submit_form(
        request,
        form,
        lambda d: services.accountability_decide(
            actor=user,
            record_id=record_id,
            pursue=d["pursue"],
            measure=d["measure"],
            decision=d["decision"],
            document_number=d["document_number"],
        ),
        success=_("Accountability decided."),
        redirect_to=reverse("headquarters:accountability", args=[record_id]),
    )
    if done is not None:
        return done
    may_decide = (
        permissions.has_capability(user, "accountability.decide")
        and record.state == Accountability.State.PROPOSED
        and record.proposed_by_id != getattr(user, "pk", None)
    )
    return render(
        request,
        "headquarters/accountability.html",
        {"record": record, "form": form, "may_decide": may_decide, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


# --- Duty roster, handovers, task forces ----------------------------------------------


@staff_page
@require_GET
def duty(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, *ops.DUTY_VIEW_CAPS)
    now = timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return render(
        request,
        "headquarters/duty.html",
        {
            "now": now,
            "on_duty": ops.on_duty_now(user, now=now),
            "roster": list(
                ops.roster_for(user, start=start, end=start + dt.timedelta(days=7))[:LIST_SIZE]
            ),
            "handovers": list(ops.handovers_for(user)[:30]),
            "shift_form": forms.ShiftForm(user=user)
            if permissions.has_capability(user, "duty.manage")
            else None,
            "handover_form": forms.HandoverForm(user=user),
            **_caps(user),
        },
    )


@staff_page
@require_POST
def shift_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "duty.manage")
    return post_form(
        request,
        forms.ShiftForm(request.POST, user=user),
        lambda d: services.shift_add(
            actor=user,
            area_id=d["area"],
            user_id=d["user"],
            role=d["role"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
        ),
        success=_("Put on the duty roster."),
        redirect_to="headquarters:duty",
    )


@staff_page
@require_POST
def handover_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    return post_form(
        request,
        forms.HandoverForm(request.POST, user=user),
        lambda d: services.handover_write(
            actor=user, area_id=d["area"], text=d["text"], open_items=d["open_items"]
        ),
        success=_("Handover note written."),
        redirect_to="headquarters:duty",
    )


@staff_page
@require_POST
def handover_receive(request: HttpRequest, handover_id: int) -> HttpResponseBase:
    user = _user(request)
    ops.access_handover_by_id(user, handover_id)
    return post_form(
        request,
        forms.CloseForm(request.POST),
        lambda _d: services.handover_receive(actor=user, handover_id=handover_id),
        success=_("Handover note received."),
        redirect_to="headquarters:duty",
    )


@staff_page
@require_http_methods(["GET", "POST"])
def taskforces(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    _require_any(user, *ops.DUTY_VIEW_CAPS)
    form = forms.TaskForceForm(request.POST or None, user=user)
    if request.method == "POST":
        permissions.require(user, "duty.manage")
    done = submit_form(
        request,
        form,
        lambda d: services.taskforce_create(
            actor=user,
            name=d["name"],
            kind=d["kind"],
            area_id=d["area"],
            leader_id=d["leader"],
            member_ids=d["members"],
            remit=d["remit"],
        ),
        success=_("Task force set up."),
        redirect_to=lambda tf: reverse("headquarters:taskforce", args=[tf.pk]),
    )
    if done is not None:
        return done
    return render(
        request,
        "headquarters/taskforces.html",
        {"taskforces": list(ops.taskforce_list_for(user)[:LIST_SIZE]), "form": form, **_caps(user)},
        status=INVALID if form.is_bound else 200,
    )


@staff_page
@require_http_methods(["GET", "POST"])
def taskforce_detail(request: HttpRequest, tf_id: int) -> HttpResponseBase:
    user = _user(request)
    tf = ops.access_taskforce_by_id(user, tf_id)
    form = forms.MemberForm(request.POST or None, user=user)
    if request.method == "POST":
        permissions.require(user, "duty.manage")
    done = submit_form(
        request,
        form,
        lambda d: services.taskforce_member_add(
            actor=user, task_force_id=tf.pk, user_id=d["user"], duty=d["duty"]
        ),
        success=_("Member added."),
        redirect_to=reverse("headquarters:taskforce", args=[tf.pk]),
    )
    if done is not None:
        return done
    now = timezone.now()
    return render(
        request,
        "headquarters/taskforce.html",
        {
            "tf": tf,
            "form": form,
            "shifts": list(
                tf.shifts.filter(ends_at__gt=now).select_related("user__staff", "area")[:50]
            ),
            **_caps(user),
        },
        status=INVALID if form.is_bound else 200,
    )


# --- Frontline staff care -------------------------------------------------------------


@staff_page
@require_GET
def care(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_any(user, "duty.manage", "hq.dashboard")
    manage = permissions.has_capability(user, "duty.manage")
    return render(
        request,
        "headquarters/care.html",
        {
            "rule": ops.rotation_rule_in_force(),
            "overwork": ops.overwork_for(user),
            "rotations": list(ops.rotation_plans_for(user)[:100]),
            "recognitions": list(ops.recognitions_for(user)[:100]),
            "rotation_form": forms.RotationForm(
                user=user,
                initial={
                    "rest_from": timezone.localdate(),
                    "rest_until": timezone.localdate() + dt.timedelta(days=2),
                },
            )
            if manage
            else None,
            "recognition_form": forms.RecognitionForm(
                user=user, initial={"awarded_on": timezone.localdate()}
            )
            if manage
            else None,
            **_caps(user),
        },
    )


@staff_page
@require_POST
def rotation_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "duty.manage")
    return post_form(
        request,
        forms.RotationForm(request.POST, user=user),
        lambda d: services.rotation_plan_create(
            actor=user,
            user_id=d["user"],
            replacement_id=d["replacement"],
            rest_from=d["rest_from"],
            rest_until=d["rest_until"],
            reason=d["reason"],
        ),
        success=_("Rotation planned."),
        redirect_to="headquarters:care",
    )


@staff_page
@require_POST
def recognition_new(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    permissions.require(user, "duty.manage")
    return post_form(
        request,
        forms.RecognitionForm(request.POST, user=user),
        lambda d: services.recognition_record(
            actor=user,
            user_id=d["user"],
            kind=d["kind"],
            citation=d["citation"],
            awarded_on=d["awarded_on"],
        ),
        success=_("Recognition recorded."),
        redirect_to="headquarters:care",
    )
