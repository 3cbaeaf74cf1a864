"""Demo data of the zones app: a few zones in force in the synthetic city, with
teams, door-step requests and one proposal awaiting approval. Idempotent."""

from __future__ import annotations

from fangkong.core.models import Jurisdiction, Person
from fangkong.core.synth import demo_staff
from fangkong.zones import services
from fangkong.zones.models import Zone


def seed() -> str:
    if Zone.objects.exists():
        return f"{Zone.objects.count()} zones already there"
    district = Jurisdiction.objects.filter(level="district").order_by("path").first()
    city = Jurisdiction.objects.filter(level="city").order_by("path").first()
    if district is None or city is None:
        return "no city to put zones in"
    officer = demo_staff("zones-demo-officer", district, "district_officer")
    commander = demo_staff("zones-demo-commander", city, "city_commander")
    grids = list(Jurisdiction.objects.subtree_of(district.path).filter(level="grid")[:6])
    if len(grids) < 5:  # a small city: buildings as units
        grids = list(Jurisdiction.objects.subtree_of(district.path).filter(level="building")[:6])
    if len(grids) < 4:
        return "too few units for the demo zones"
    plan = [
        ("high", [grids[0]], "坞城路一号院封控区"),
        ("medium", [grids[1], grids[2]], "坞城路片区管控区"),
        ("low", [grids[3]], "坞城南防范区"),
    ]
    zones = []
    for level, units, name in plan:
        p = services.zone_propose_declare(
            actor=officer,
            name=name,
            level=level,
            node_ids=[u.pk for u in units],
            reason="演示：病例居住地及活动轨迹",
        )
        services.proposal_approve(
            actor=commander, proposal_id=p.pk, decision_number="并防指〔2022〕演示号"
        )
        zones.append(p.zone)
    high = zones[0]
    for role, name, phone, shift in (
        ("leader", "王建国", "13800000001", "全天"),
        ("medical", "李红", "13800000002", "8:00-20:00"),
        ("police", "赵刚", "13800000003", "20:00-8:00"),
    ):
        services.team_member_add(
            actor=officer, zone_id=high.pk, role=role, name=name, phone=phone, shift=shift
        )
    residents = list(
        Person.objects.under(grids[0].path).order_by("id").values_list("id", flat=True)[:3]
    )
    requests = 0
    for pid, kind, text in zip(
        residents,
        ["medicines", "groceries", "dialysis"],
        ["降压药两盒", "大米、鸡蛋", "每周一三五透析"],
        strict=False,
    ):
        services.service_request_create(
            person_id=pid, kind=kind, text=text, items=[{"name": text, "qty": 1}]
        )
        requests += 1
    if len(grids) > 4:
        services.zone_propose_declare(
            actor=officer,
            name="演示待审批封控区",
            level="high",
            node_ids=[grids[4].pk],
            reason="演示：待指挥部审批",
        )
    return f"{len(zones)} zones in force, 1 awaiting approval, {requests} door-step requests"
