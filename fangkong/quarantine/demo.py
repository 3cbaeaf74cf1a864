"""Demo data of the quarantine app, in the demo district (小店区, where the
``quarantine_manager`` login works): sites in every lifecycle state, an active
site close to the activation threshold with people waiting for a room (the
next tier is proposed as soon as they get theirs), the outbreak's close contacts
under monitoring with two days of checks and their tests, a release due today,
a suspected case, a room-sharing request awaiting the district officer's
approval, the closed-loop staff with a rotation due and an open breach report,
and the outbreak's cases in two hospitals (ICU nearly full). Done through the
services as the demo logins. Idempotent: a second run adds nothing. Dates are
relative to today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangkong.core.demo import demo_district, demo_login
from fangkong.core.models import Jurisdiction, Person
from fangkong.investigation.selectors.shared import monitored_contact_facts, open_case_facts
from fangkong.quarantine import services
from fangkong.quarantine.models import Site, Stay, StayTest

DEPENDS_ON = ("investigation",)  # the outbreak's contacts and cases
CONTACT_CATEGORIES = {"close": "close_contact", "secondary": "secondary_contact"}
ACTIVE_ROOMS = 40
IN_ROOMS = 36  # with the second site's 9: 45 of 60 rooms, 75 %; three more pass 80 %


def _pass_all() -> dict[str, tuple[bool, str]]:
    from fangkong.quarantine.selectors import acceptance_items

    return {i.code: (True, "") for i in acceptance_items()}


def _site(
    manager: Any,
    commander: Any,
    district: Jurisdiction,
    name: str,
    tier: int,
    state: str,
    *,
    rooms: int = 0,
    address: str = "",
) -> Site:
    site = services.site_create(
        actor=manager,
        data=services.SiteData(
            name=name,
            jurisdiction_id=district.pk,
            tier=tier,
            planned_rooms=rooms,
            address=address,
            contact_name="场所负责人",
            contact_phone="0351-7000000",
        ),
    )
    path = {
        "reserve": [],
        "vacating": ["vacating"],
        "inspection": ["vacating", "inspection"],
        "standby": ["vacating", "inspection", "*accept", "standby"],
        "active": ["vacating", "inspection", "*accept", "+rooms", "!active"],
        "closed": ["closed"],
    }[state]
    for step in path:
        if step == "*accept":
            services.site_accept(
                actor=manager, site_id=site.pk, results=_pass_all(), note="演示：验收合格"
            )
        elif step == "+rooms":
            services.rooms_add(
                actor=manager,
                site_id=site.pk,
                rooms=services.rooms_numbered(range(2, 2 + (rooms + 9) // 10), 10)[:rooms],
            )
        elif step.startswith("!"):
            services.site_transition(
                actor=commander, site_id=site.pk, to_state=step[1:], reason="演示：指挥部决定启用"
            )
        else:
            services.site_transition(actor=manager, site_id=site.pk, to_state=step)
    if state == "standby":
        services.rooms_add(
            actor=manager, site_id=site.pk, rooms=services.rooms_numbered([2, 3], 20)
        )
    return site


def seed() -> str:
    if Site.objects.exists():
        return f"{Site.objects.count()} quarantine sites already there"
    district = demo_district()
    if district is None:
        return "no city to put quarantine sites in"
    manager = demo_login("quarantine_manager")
    commander = demo_login("city_commander")
    medical = demo_login("medical_officer")
    today = timezone.localdate()

    first = _site(
        manager,
        commander,
        district,
        "坞城路如家酒店隔离点",
        1,
        "active",
        rooms=ACTIVE_ROOMS,
        address="小店区坞城路88号",
    )
    second = _site(
        manager,
        commander,
        district,
        "长风街锦江之星隔离点",
        2,
        "active",
        rooms=20,
        address="小店区长风街12号",
    )
    _site(manager, commander, district, "学府街培训中心", 3, "standby", address="小店区学府街5号")
    inspection = _site(manager, commander, district, "龙城大街职工宿舍", 4, "inspection", rooms=120)
    failed = _pass_all()
    failed["three_zones_two_passages"] = (False, "污染区与清洁区之间缺少缓冲区")
    services.site_accept(
        actor=manager, site_id=inspection.pk, results=failed, note="演示：整改后复验"
    )
    _site(manager, commander, district, "亲贤街商务酒店", 5, "vacating", rooms=80)
    _site(manager, commander, district, "南内环宾馆", 6, "reserve", rooms=60)
    _site(manager, commander, district, "并州饭店（已撤点）", 9, "closed", rooms=50)

    contacts = [
        (person_id, CONTACT_CATEGORIES[category])
        for _c, person_id, category, _end, _d in monitored_contact_facts()
        if category in CONTACT_CATEGORIES
    ]
    case_people = {person_id for _c, person_id, _d in open_case_facts()}
    taken = {pid for pid, _cat in contacts} | case_people
    residents = [
        (pid, "other")
        for pid in Person.objects.active()
        .under(district.path)
        .order_by("id")
        .values_list("id", flat=True)[: IN_ROOMS + 13 + len(taken)]
        if pid not in taken
    ]
    seen: set[int] = set()
    people = []
    for pid, category in [*contacts, *residents]:
        if pid not in seen:
            seen.add(pid)
            people.append((pid, category))
    people = people[: IN_ROOMS + 13]
    if len(people) < IN_ROOMS + 13:
        return "too few residents for the demo quarantine"
    started = today - dt.timedelta(days=6)
    arrived = timezone.make_aware(dt.datetime.combine(started, dt.time(15)))
    in_room = services.stays_admit(
        actor=manager,
        site_id=first.pk,
        people=[
            services.AdmitData(
                person_id=pid,
                category=category if category != "other" else "inbound_traveller",
                disease_code="covid19",
                started_on=started if i else today - dt.timedelta(days=7),
                arrived_at=arrived if i else arrived - dt.timedelta(days=1),
            )
            for i, (pid, category) in enumerate(people[:IN_ROOMS])
        ],
    )
    services.stays_allocate(actor=manager, site_id=first.pk)
    # Two days of checks for everyone, then yesterday's and the day before's tests.
    for back in (2, 1):
        day = today - dt.timedelta(days=back)
        for slot in ("am", "pm"):
            services.health_checks_record(
                actor=manager,
                site_id=first.pk,
                taken_on=day,
                slot=slot,
                rows={
                    s.pk: services.CheckData(temperature=f"36.{(s.pk + back + len(slot)) % 8}")
                    for s in in_room[1:]
                },
            )
    for t in StayTest.objects.filter(stay__in=in_room, due_on__lt=today).order_by("due_on", "id"):
        services.stay_test_record(actor=manager, test_id=t.pk, result="negative")
    # The first person's quarantine ends today: day 7's test was negative.
    done = in_room[0]
    for t in StayTest.objects.filter(stay=done, due_on__lte=today, result="due"):
        services.stay_test_record(actor=manager, test_id=t.pk, result="negative")
    # A fever this morning: reported as a suspected case.
    services.health_check_record(
        actor=manager,
        stay_id=in_room[5].pk,
        taken_on=today,
        slot="am",
        data=services.CheckData(
            temperature="38.3", symptoms=["dry_cough", "fatigue"], note="演示：发热伴干咳"
        ),
    )
    # Three people waiting for a room: giving them rooms passes 80 %.
    services.stays_admit(
        actor=manager,
        site_id=first.pk,
        people=[
            services.AdmitData(person_id=pid, category="close_contact", disease_code="covid19")
            for pid, _cat in people[IN_ROOMS : IN_ROOMS + 3]
        ],
    )
    child = services.stays_admit(
        actor=manager,
        site_id=first.pk,
        people=[
            services.AdmitData(
                person_id=people[IN_ROOMS + 3][0], category="close_contact", disease_code="covid19"
            )
        ],
    )[0]
    guardian_room = Stay.objects.get(pk=in_room[2].pk).room_id
    services.room_share_request(
        actor=manager,
        stay_id=child.pk,
        room_id=guardian_room or 0,
        reason_kind="minor_guardian",
        reason="演示：7岁儿童，母亲同为密接，申请同住",
    )
    # The second site: a few people, one extended.
    second_stays = services.stays_admit(
        actor=manager,
        site_id=second.pk,
        people=[
            services.AdmitData(
                person_id=pid,
                category="risk_area_arrival",
                disease_code="covid19",
                started_on=today - dt.timedelta(days=2),
                arrived_at=timezone.now() - dt.timedelta(days=2),
            )
            for pid, _cat in people[IN_ROOMS + 4 : IN_ROOMS + 13]
        ],
    )
    services.stays_allocate(actor=manager, site_id=second.pk)
    services.stay_extend(
        actor=manager, stay_id=second_stays[0].pk, days=3, reason="演示：同楼层出现阳性，延长观察"
    )
    services.orders_issue(actor=manager, stay_ids=[s.pk for s in second_stays])

    # Closed-loop staff of the first site.
    roster = [
        ("王建华", "manager", 15),
        ("李秀英", "medical", 14),
        ("张伟", "medical", 5),
        ("刘洋", "security", 9),
        ("陈静", "cleaning", 3),
        ("杨磊", "catering", 12),
    ]
    members = []
    for i, (name, role, days_on) in enumerate(roster):
        m = services.staff_add(
            actor=manager,
            site_id=first.pk,
            name=name,
            role=role,
            phone=f"1390351{i:04d}",
            employer="小店区卫健局",
        )
        services.period_start(
            actor=manager, staff_id=m.pk, started_on=today - dt.timedelta(days=days_on)
        )
        members.append(m)
    # Two nurses who rotated out: under monitoring with a morning check each day
    # and their day-1 test negative; 周敏's day-4 test is due today.
    for name, left_days_ago in (("周敏", 3), ("吴刚", 1)):
        worker = services.staff_add(
            actor=manager, site_id=first.pk, name=name, role="medical", employer="小店区卫健局"
        )
        spell = services.period_start(
            actor=manager, staff_id=worker.pk, started_on=today - dt.timedelta(days=17)
        )
        left = today - dt.timedelta(days=left_days_ago)
        spell = services.period_rotate(actor=manager, period_id=spell.pk, left_on=left)
        for back in range(left_days_ago, -1, -1):
            services.staff_check_record(
                actor=manager,
                period_id=spell.pk,
                taken_on=today - dt.timedelta(days=back),
                slot="am",
                data=services.CheckData(temperature="36.4"),
            )
        first_test = spell.tests.order_by("day_number").first()
        if first_test is not None:
            services.staff_test_record(actor=manager, test_id=first_test.pk, result="negative")
    services.breach_report(
        actor=manager,
        site_id=first.pk,
        kind="zone_crossing",
        occurred_at=timezone.now() - dt.timedelta(hours=20),
        description="演示：一名安保人员未脱防护服进入清洁区",
        staff_ids=[members[3].pk],
    )

    # Hospitals.
    designated = services.hospital_create(
        actor=medical,
        name="太原市第四人民医院（定点）",
        kind="designated",
        jurisdiction_id=district.pk,
        beds={"general": 60, "icu": 6},
    )
    shelter = services.hospital_create(
        actor=medical,
        name="小店区方舱医院",
        kind="shelter",
        jurisdiction_id=district.pk,
        beds={"general": 400, "icu": 0},
    )
    # The outbreak's cases in hospital (the first ones the most severe), then
    # residents of the district so the ICU is nearly full in a small city too.
    cases = [(case_id, pid) for case_id, pid, _d in open_case_facts()]
    in_quarantine = {pid for pid, _cat in people}
    fill = [
        (None, pid)
        for pid in Person.objects.active()
        .under(district.path)
        .order_by("-id")
        .values_list("id", flat=True)[:40]
        if pid not in in_quarantine and pid not in case_people
    ]
    plan = [
        (designated, "icu", "critical"),
        (designated, "icu", "critical"),
        (designated, "icu", "severe"),
        (designated, "icu", "severe"),
        (designated, "icu", "severe"),
        *[(designated, "general", "moderate")] * 6,
        *[(shelter, "general", "mild")] * 12,
    ]
    for (hospital, bed, severity), (case_id, pid) in zip(plan, [*cases, *fill], strict=False):
        services.patient_admit(
            actor=medical,
            hospital_id=hospital.pk,
            person_id=pid,
            case_id=case_id,
            bed_type=bed,
            severity=severity,
        )
    return (
        f"{Site.objects.count()} quarantine sites (every lifecycle state), "
        f"{Stay.objects.filter(state='in_room').count()} people in rooms, "
        f"{Stay.objects.filter(state='pending').count()} waiting for a room, 2 hospitals"
    )
