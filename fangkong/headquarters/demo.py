"""Demo data of headquarters' supervision, duty and care, acting as the demo logins:
the city commander plans an inspection of the demo district for the ``inspector``,
who visited an outbreak grid yesterday (two items failed, with a photo: their
rectification tasks wait on the district; a third failed item already rectified on
re-inspection) and proposes accountability for one finding, which waits for the
commander's decision. A task force of the demo district; the duty roster with who
is on duty now (city and district) and tomorrow, a handover note from the night
shift; an investigator on duty sixteen days in a row (the overwork list); a
recognition. Idempotent: a second run adds nothing. Dates are relative to today."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from fangkong.core.demo import demo_district, demo_login, outbreak_grids
from fangkong.headquarters import services
from fangkong.headquarters.models import (
    DailyReport,
    DutyShift,
    InspectionPlan,
    ReportSchedule,
    TaskForce,
)
from fangkong.headquarters.services.reports import daily_report_make

# The outbreak grids; the daily report made here reads every module's demo data.
DEPENDS_ON = ("investigation", "zones", "screening", "status", "quarantine", "entry", "supplies")
PLAN_TITLE = "小店区封控区管控专项督导"


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 420), (214, 222, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 120, 580, 400), fill=(150, 160, 170))  # a gate
    draw.rectangle((260, 200, 380, 400), fill=(90, 70, 60))
    draw.line((0, 400, 640, 400), fill=(80, 80, 80), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _inspections() -> str:
    district = demo_district()
    grids = outbreak_grids(2)
    if district is None or not grids:
        return "no district to inspect"
    commander = demo_login("city_commander")
    inspector = demo_login("inspector")
    today = timezone.localdate()
    plan = services.plan_create(
        actor=commander,
        title=PLAN_TITLE,
        area_id=district.pk,
        checklist_code="zone_control",
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=2),
        inspector_id=inspector.pk,
    )
    items = list(plan.checklist.items.order_by("position"))
    now = timezone.now()
    results = {
        0: ("failed", "东门值守人员离岗约20分钟，进出登记缺3人次", 48, True),
        1: ("passed", "", 72, False),
        2: ("failed", "3号楼一户老人复诊需求未指定对接人", 24, False),
        3: ("failed", "上门采样名单与在册人员不一致（少2户）", 24, False),
        4: ("passed", "", 72, False),
    }
    visit = services.visit_record(
        actor=inspector,
        plan_id=plan.pk,
        unit_id=grids[0].pk,
        place=f"{grids[0].name}东门",
        visited_at=now - dt.timedelta(hours=20),
        summary="封控区总体有序，出入口值守和特殊人群对接存在漏洞。",
        findings=[
            services.FindingIn(
                item_id=items[i].pk,
                result=r,
                note=note,
                deadline_hours=hours,
                photos=(_photo(),) if photo else (),
            )
            for i, (r, note, hours, photo) in results.items()
            if i < len(items)
        ],
        now=now - dt.timedelta(hours=19),
    )
    findings = list(visit.findings.filter(result="failed").order_by("item__position"))
    if len(findings) >= 3:
        services.finding_reinspect(
            actor=inspector,
            finding_id=findings[2].pk,
            rectified=True,
            note="已补录2户并完成上门采样",
        )
    services.accountability_propose(
        actor=inspector,
        failure_kind="finding",
        failure_id=findings[0].pk,
        party_kind="unit",
        party_name=f"{grids[0].name}封控管理组",
        measure="talk",
        grounds="封控区出入口值守人员擅自离岗，出入登记不全，存在人员流动风险。",
    )
    return f"1 inspection plan with {len(findings)} failed items and their rectification tasks"


def _duty() -> str:
    district = demo_district()
    if district is None:
        return ""
    commander = demo_login("city_commander")
    officer = demo_login("district_officer")
    investigator = demo_login("investigator")
    grid_worker = demo_login("grid_worker")
    city = commander.staff.jurisdiction
    tf = services.taskforce_create(
        actor=commander,
        name="小店区流调溯源专班",
        kind=TaskForce.Kind.INVESTIGATION,
        area_id=district.pk,
        leader_id=officer.pk,
        member_ids=[investigator.pk, grid_worker.pk],
        remit="24小时内完成新增病例的流调、密接判定和管控落实。",
    )
    local = timezone.localtime()
    today8 = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local < today8:
        today8 -= dt.timedelta(days=1)

    def shift(area: object, user: object, start: dt.datetime, hours: int, role: str) -> None:
        services.shift_add(
            actor=commander,
            area_id=area.pk,  # type: ignore[attr-defined]
            user_id=user.pk,  # type: ignore[attr-defined]
            starts_at=start,
            ends_at=start + dt.timedelta(hours=hours),
            role=role,
            task_force_id=tf.pk if user is investigator else None,
        )

    shift(city, commander, today8, 24, DutyShift.Role.LEADER)
    shift(district, officer, today8 - dt.timedelta(hours=12), 12, DutyShift.Role.OFFICER)
    shift(district, officer, today8 + dt.timedelta(hours=12), 12, DutyShift.Role.OFFICER)
    shift(district, grid_worker, today8, 12, DutyShift.Role.LEADER)
    # The investigator: sixteen days in a row, twelve hours a day (the rule allows 14).
    for d in range(15, -1, -1):
        shift(district, investigator, today8 - dt.timedelta(days=d), 12, DutyShift.Role.OFFICER)
    # Written by the commander (a duty manager) for the night shift of the district.
    services.handover_write(
        actor=commander,
        area_id=district.pk,
        text="夜间新增密接14人均已落位；坞城街道2人待转运至集中隔离点。",
        open_items="120急救车预约上午9点；待补录核酸名单2户。",
    )
    services.recognition_record(
        actor=commander,
        user_id=grid_worker.pk,
        kind="commendation",
        citation="连续坚守网格一线，组织居民有序完成五轮核酸检测。",
    )
    return "a task force, the duty roster with who is on duty now, an overworked investigator"


def _reports() -> str:
    """The city's daily report at 07:00 in the commander's name, and today's report
    (idempotent)."""
    commander = demo_login("city_commander")
    city = commander.staff.jurisdiction
    ReportSchedule.objects.get_or_create(
        area=city, defaults={"at": dt.time(7, 0), "issued_by": commander}
    )
    if not DailyReport.objects.filter(area=city).exists():
        daily_report_make(actor=commander)
    return "the city's daily report every morning at 07:00 and today's"


def seed() -> str:
    if InspectionPlan.objects.filter(title=PLAN_TITLE).exists():
        return "headquarters: inspections, duty roster and staff care already there; " + _reports()
    return "headquarters: " + _inspections() + "; " + _duty() + "; " + _reports()
