"""Demo data of the zones app, where the demo outbreak is: a sealed (high-risk) zone
over the index case's grid and a controlled (medium-risk) zone over the next two,
a low-risk zone, each in force with its four-ones team (四个一); door-step requests
of sealed residents (open, taken, done); a declaration waiting for the commander.
Proposed by the district officer, approved by the city commander (the demo
logins). Idempotent."""

from __future__ import annotations

from fangkong.core.demo import demo_login, outbreak_grids
from fangkong.core.models import Jurisdiction, Person
from fangkong.zones import services
from fangkong.zones.models import Zone

TEAMS = {
    "high": [
        ("leader", "王建国", "13800000001", "全天"),
        ("medical", "李红", "13800000002", "8:00-20:00"),
        ("police", "赵刚", "13800000003", "20:00-8:00"),
        ("community", "杨帆", "13800000004", "全天"),
    ],
    "medium": [
        ("leader", "孙志伟", "13800000011", "全天"),
        ("medical", "周静", "13800000012", "8:00-20:00"),
        ("police", "钱磊", "13800000013", "全天"),
        ("community", "吴芳", "13800000014", "8:00-20:00"),
    ],
}
REQUESTS = [
    ("medicines", "降压药两盒（硝苯地平缓释片）"),
    ("groceries", "大米5公斤、鸡蛋两斤、青菜"),
    ("dialysis", "每周一三五上午透析，需转运车辆"),
    ("groceries", "牛奶、面包、水果"),  # sealed: waits for the supplies team's delivery
    ("rubbish", "生活垃圾两袋"),
    ("pregnancy_check", "孕32周，本周需到医院产检"),
]


def seed() -> str:
    if Zone.objects.exists():
        return f"{Zone.objects.count()} zones already there"
    grids = outbreak_grids(6)
    if len(grids) < 5:  # a small city: buildings as units
        district = grids[0].parent if grids else None
        if district is None:
            return "no city to put zones in"
        grids = list(Jurisdiction.objects.subtree_of(district.path).filter(level="building")[:6])
    if len(grids) < 4:
        return "too few units for the demo zones"
    officer = demo_login("district_officer")
    commander = demo_login("city_commander")
    team_user = demo_login("zone_team_member")
    grid_worker = demo_login("grid_worker")

    def place(units: list[Jurisdiction]) -> str:
        """A zone's name: where its units are ("郝庄社区1号楼", "郝庄社区2号楼、3号楼")."""
        parent = units[0].parent.name_zh if units[0].parent is not None else ""
        return parent + "、".join(u.name_zh.removeprefix(parent) for u in units)

    plan = [
        ("high", [grids[0]], f"{place([grids[0]])}封控区", "确诊病例居住地，足不出户、上门服务"),
        ("medium", grids[1:3], f"{place(grids[1:3])}管控区", "病例活动轨迹涉及，人不出区"),
        ("low", [grids[3]], f"{place([grids[3]])}防范区", "周边区域，强化社会面管控"),
    ]
    zones = []
    for level, units, name, reason in plan:
        p = services.zone_propose_declare(
            actor=officer,
            name=name,
            level=level,
            node_ids=[u.pk for u in units],
            reason=reason,
        )
        services.proposal_approve(
            actor=commander, proposal_id=p.pk, decision_number="并防指〔2022〕139号"
        )
        zones.append(p.zone)
    for zone in zones[:2]:
        for role, name, phone, shift in TEAMS[zone.level.code]:
            services.team_member_add(
                actor=officer,
                zone_id=zone.pk,
                role=role,
                name=name,
                phone=phone,
                shift=shift,
                user=team_user if role == "community" and zone == zones[0] else None,
            )
    sealed = list(
        Person.objects.active().under(grids[0].path).order_by("id").values_list("id", flat=True)
    )
    controlled = list(
        Person.objects.active().under(grids[1].path).order_by("id").values_list("id", flat=True)
    )
    requests = []
    for i, (kind, text) in enumerate(REQUESTS):
        people = sealed if i < 4 or not controlled else controlled
        if not people:
            continue
        pid = people[(i * 7) % len(people)]
        requests.append(
            services.service_request_create(
                actor=grid_worker if i % 2 else None,
                person_id=pid,
                kind=kind,
                text=text,
                items=[{"name": text, "qty": 1}],
                via="staff" if i % 2 else "portal",
            )
        )
    if requests:
        services.service_request_assign(actor=grid_worker, request_id=requests[0].pk)
    if len(requests) > 1:
        services.service_request_assign(actor=grid_worker, request_id=requests[1].pk)
        services.service_request_complete(
            actor=grid_worker, request_id=requests[1].pk, note="已送达，居民签收"
        )
    if len(grids) > 4:
        services.zone_propose_declare(
            actor=officer,
            name=f"{place([grids[4]])}封控区",
            level="high",
            node_ids=[grids[4].pk],
            reason="新增阳性病例居住楼栋，建议封控",
        )
    return (
        f"{len(zones)} zones in force (sealed and controlled with their four-ones teams), "
        f"1 awaiting approval, {len(requests)} door-step requests"
    )
