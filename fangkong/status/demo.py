"""Demo statuses: the reasons of the demo outbreak, manual changes and appeals.

The investigation services published their facts (cases, contacts), which gave
their reasons; cases and contacts loaded in bulk (a line-list import) published
none, so this gives them the reasons the facts would have given (``reasons_grant``
adds nothing a source already gave). Then, as the demo logins: a manual status
and an early end waiting for a second approver, one approved change, two open
appeals and a decided one; expired reasons end. Idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core import crypto
from fangkong.core.demo import demo_login, outbreak_grids
from fangkong.core.models import Person
from fangkong.investigation.selectors.shared import monitored_contact_facts, open_case_facts
from fangkong.status.facts import CONTACT_KINDS, end_of_day
from fangkong.status.models import Appeal, ManualRequest, Reason
from fangkong.status.services import reasons_expire, reasons_grant
from fangkong.status.services.appeals import appeal_create, appeal_decide
from fangkong.status.services.manual import manual_request_approve, manual_request_create

DEPENDS_ON = ("investigation", "zones", "screening")


def _fact_reasons() -> int:
    reasons = 0
    for case_id, person_id, disease_id in open_case_facts():
        reasons += reasons_grant(
            kind="confirmed_case",
            person_ids=[person_id],
            source_type="investigation.case",
            source_id=case_id,
            disease_id=disease_id,
            notify=False,
        )
    now = timezone.now()
    for contact_id, person_id, category, monitoring_end, disease_id in monitored_contact_facts():
        ends_at = end_of_day(monitoring_end) if monitoring_end else None
        if ends_at is not None and ends_at <= now:
            continue
        reasons += reasons_grant(
            kind=CONTACT_KINDS[category],
            person_ids=[person_id],
            source_type="investigation.contact",
            source_id=contact_id,
            disease_id=disease_id,
            ends_at=ends_at,
            notify=False,
        )
    return reasons


def _manual_and_appeals() -> tuple[int, int]:
    """Manual changes and appeals about people of the outbreak grids."""
    grids = outbreak_grids(6)
    if not grids:
        return 0, 0
    officer = demo_login("district_officer")
    investigator = demo_login("investigator")
    status_officer = demo_login("status_officer")
    now = timezone.now()
    paths = [g.path for g in grids]
    active = (
        Reason.objects.filter(ended_at__isnull=True, kind__in=CONTACT_KINDS.values())
        .order_by("pk")
        .values_list("pk", "person_id", "kind")
    )
    rows = list(active)
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in=[r[1] for r in rows]).order_by("pk")
        if any(p.scope_path.startswith(path) for path in paths)
    }
    rows = [r for r in rows if r[1] in people]
    if len(rows) < 4:
        return 0, 0
    # A person seen at the market by a witness, not in any check-in log: yellow
    # for a week, asked by the district officer, waiting for a second person.
    spare = (
        Person.objects.active()
        .under(grids[-1].path)
        .exclude(pk__in=Reason.objects.values("person_id"))
        .order_by("pk")
        .first()
    )
    made = 0
    if spare is not None:
        manual_request_create(
            actor=officer,
            action="grant",
            basis="epidemiological_investigation",
            source_ref="坞城路农贸市场聚集性疫情流调报告（小店区疾控中心）",
            text="流调核实：该人员与病例同时段在坞城路农贸市场购物，未扫场所码",
            person_ids=[spare.pk],
            level="yellow",
            ends_at=now + dt.timedelta(days=7),
        )
        made += 1
    # An early end: a secondary contact registered twice by mistake.
    secondary = next((r for r in rows if r[2] == "secondary_contact"), rows[0])
    manual_request_create(
        actor=officer,
        action="end",
        basis="data_correction",
        text="登记错误：该人员当日出差外地，有车票及单位证明",
        reason_ids=[secondary[0]],
    )
    made += 1
    # One change already approved (asked by the investigator, approved by the status team).
    approved_for = (
        Person.objects.active()
        .under(grids[-2].path)
        .exclude(pk__in=Reason.objects.values("person_id"))
        .order_by("pk")[1:2]
        .first()
    )
    if approved_for is not None:
        req = manual_request_create(
            actor=investigator,
            action="grant",
            basis="clinical_diagnosis",
            source_ref="太原市第四人民医院发热门诊，门诊号 0173",
            text="发热门诊抗原阳性，核酸结果待出，先行管控",
            person_ids=[approved_for.pk],
            level="red",
            ends_at=now + dt.timedelta(days=3),
        )
        manual_request_approve(actor=status_officer, request_id=req.pk, note="同意，待核酸结果")
        made += 1
    # Appeals: two open, one decided.
    texts = [
        "我当天一直在单位上班，没有去过该超市，单位考勤记录可以证明。",
        "我已按要求完成两次核酸检测，结果均为阴性，请求尽快转为绿码。",
        "我家人是密接，但我本人这段时间住在单位宿舍，没有接触。",
    ]
    appeals = 0
    seen: set[int] = set()
    for (_rid, pid, _kind), text in zip(reversed(rows), texts, strict=False):
        if pid in seen:
            continue
        seen.add(pid)
        person = people[pid]
        appeal = appeal_create(
            person_id=pid, doc_number=crypto.decrypt(person.doc_number_encrypted), text=text
        )
        appeals += 1
        if appeals == 3:
            appeal_decide(
                actor=status_officer,
                appeal_id=appeal.pk,
                state="rejected",
                text="经核实，您与密接者同住，按规定须居家健康监测至期满。",
            )
    return made, appeals


def seed() -> str:
    reasons = _fact_reasons()
    manual = appeals = 0
    if not ManualRequest.objects.exists() and not Appeal.objects.exists():
        manual, appeals = _manual_and_appeals()
    expired = reasons_expire()
    active = Reason.objects.filter(ended_at__isnull=True).count()
    return (
        f"{active:,} active status reasons ({reasons:,} given now, {expired:,} expired), "
        f"{manual} manual changes ({ManualRequest.objects.filter(state='pending').count()} "
        f"waiting for a second approver), {appeals} appeals "
        f"({Appeal.objects.filter(state='open').count()} open)"
    )
