from typing import Any

import pytest

from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.notify.models import Batch, Message
from fangkong.zones import selectors, services
from fangkong.zones.models import Zone, ZoneProposal
from fangkong.zones.tests.zonekit import active_kinds, declare, residents, zone_reasons


def test_a_proposed_zone_has_no_effect_before_approval(city, xiaodian_officer):
    people = residents(city)
    proposal = services.zone_propose_declare(
        actor=xiaodian_officer, name="坞城1号楼", level="high", node_ids=[city.xd_building.pk]
    )
    assert proposal.state == ZoneProposal.State.PENDING
    assert proposal.zone.state == Zone.State.PROPOSED
    assert zone_reasons(proposal.zone.pk) == []
    assert Message.objects.filter(purpose="zone").count() == 0
    assert selectors.zone_for_person(people[0].pk) is None
    assert selectors.public_zones() == []


def test_approval_grants_the_level_reason_and_queues_one_sms_each(
    city, xiaodian_officer, commander
):
    people = residents(city, 3)
    other = residents(city, 1, building=city.xd_building2)[0]
    zone = declare(xiaodian_officer, commander, [city.xd_building])
    assert zone.state == Zone.State.ACTIVE
    assert zone.approved_by == commander and zone.declared_by == xiaodian_officer
    assert zone.decision_number == "并防控〔2022〕1号"
    reasons = zone_reasons(zone.pk)
    assert {r.kind for r in reasons} == {"sealed_zone"}
    assert sorted(r.person_id for r in reasons) == sorted(p.pk for p in people)
    assert active_kinds(other.pk) == set()
    batch = Batch.objects.get(template_code="zone_declared")
    assert batch.total == 3
    assert Message.objects.filter(batch=batch).count() == 3
    assert "坞城高风险区" in Message.objects.filter(batch=batch).first().body  # type: ignore[union-attr]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"zone.propose", "zone.approve"} <= actions
    mine = selectors.zone_for_person(people[0].pk)
    assert mine is not None and mine["level"] == "high"
    assert selectors.public_zones()[0]["units_text"]


def test_the_proposer_cannot_approve_and_an_officer_cannot_approve(
    city, xiaodian_officer, commander
):
    proposal = services.zone_propose_declare(
        actor=commander, name="z", level="high", node_ids=[city.xd_building.pk]
    )
    with pytest.raises(Exception) as exc:
        services.proposal_approve(actor=commander, proposal_id=proposal.pk)
    assert getattr(exc.value, "status", None) == 403
    other = services.zone_propose_declare(
        actor=xiaodian_officer, name="z2", level="high", node_ids=[city.xd_building.pk]
    )
    with pytest.raises(PermissionDenied):
        services.proposal_approve(actor=xiaodian_officer, proposal_id=other.pk)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"node_ids": []}, "units"),
        (
            {"node_ids": [], "polygon": [[0, 0], [1, 1], [0, 1], [1, 0]]},
            "polygon",
        ),  # crosses itself
        (
            {"node_ids": [], "polygon": [[1, 1], [1.001, 1], [1.001, 1.001]]},
            "polygon",
        ),  # nothing inside
        ({"node_ids": [], "polygon": "garbage"}, "polygon"),
        ({"node_ids": [], "level": "extreme"}, "level"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_declarations_are_refused_and_leave_nothing(
    city, xiaodian_officer, kwargs: dict[str, Any], field: str
):
    args: dict[str, Any] = {"name": "z", "level": "high", "node_ids": [city.xd_building.pk]}
    args.update(kwargs)
    with pytest.raises(ValidationFailed) as exc:
        services.zone_propose_declare(actor=xiaodian_officer, **args)
    assert field in exc.value.fields
    assert Zone.objects.count() == 0 and ZoneProposal.objects.count() == 0


def test_units_outside_the_declarers_area_do_not_exist(city, xiaodian_officer):
    with pytest.raises(NotFound):
        services.zone_propose_declare(
            actor=xiaodian_officer, name="z", level="high", node_ids=[city.yz_building.pk]
        )
    with pytest.raises(NotFound):
        services.zone_propose_declare(
            actor=xiaodian_officer, name="z", level="high", node_ids=[999999]
        )
    assert Zone.objects.count() == 0


def test_a_district_is_not_a_unit(city, xiaodian_officer):
    with pytest.raises(ValidationFailed):
        services.zone_propose_declare(
            actor=xiaodian_officer, name="z", level="high", node_ids=[city.xiaodian.pk]
        )


def test_a_polygon_selects_the_buildings_inside_it(city, xiaodian_officer):
    from fangkong.zones.geometry import derived_box

    w, s, e, n = derived_box(city.xd_building.path)
    square = [[w, s], [e, s], [e, n], [w, n]]
    proposal = services.zone_propose_declare(
        actor=xiaodian_officer, name="drawn", level="medium", polygon=square
    )
    assert proposal.node_ids == [city.xd_building.pk]
    assert (proposal.zone.polygon or {})["type"] == "Polygon"


def test_a_refused_declaration_never_takes_effect(city, xiaodian_officer, commander):
    residents(city)
    proposal = services.zone_propose_declare(
        actor=xiaodian_officer, name="z", level="high", node_ids=[city.xd_building.pk]
    )
    with pytest.raises(ValidationFailed):
        services.proposal_refuse(actor=commander, proposal_id=proposal.pk, note="")
    services.proposal_refuse(actor=commander, proposal_id=proposal.pk, note="证据不足")
    assert Zone.objects.get().state == Zone.State.REFUSED
    assert zone_reasons(proposal.zone.pk) == []
    with pytest.raises(Conflict):
        services.proposal_approve(actor=commander, proposal_id=proposal.pk)


def test_an_english_reader_gets_the_level_in_english(city, xiaodian_officer, commander):
    from fangkong.core.models import Person

    people = residents(city, 2)
    Person.objects.filter(pk=people[1].pk).update(language="en")
    declare(xiaodian_officer, commander, [city.xd_building])
    batch = Batch.objects.get(template_code="zone_declared")
    zh = Message.objects.get(batch=batch, person_id=people[0].pk).body
    en = Message.objects.get(batch=batch, person_id=people[1].pk).body
    assert "高风险区" in zh and "High-risk zone" not in zh
    assert "High-risk zone" in en and "高风险区" not in en.replace("坞城高风险区", "")


def test_a_zone_names_the_cases_it_was_declared_for(
    city, xiaodian_officer, commander, investigator
):
    """The linked cases are kept as ids (no key into investigation's table) and
    shown by their numbers on the zone's page; a case outside the declarer's area
    does not exist for them."""
    from fangkong.conftest import client_for, make_person
    from fangkong.investigation.tests.casekit import days_ago, new_case

    case = new_case(
        investigator,
        make_person(city.xd_building, name="病例甲"),
        onset=days_ago(3),
        reported=days_ago(1),
    )
    proposal = services.zone_propose_declare(
        actor=xiaodian_officer,
        name="坞城1号楼",
        level="high",
        node_ids=[city.xd_building.pk],
        case_ids=[case.pk, case.pk],
    )
    assert proposal.zone.case_ids == [case.pk]
    assert [c.number for c in selectors.linked_cases(proposal.zone)] == [case.number]
    page = client_for(xiaodian_officer).get(f"/zones/{proposal.zone.pk}/")
    assert page.status_code == 200 and case.number in page.content.decode()
    from fangkong.conftest import make_staff

    elsewhere = new_case(
        make_staff("yz_investigator", city.yingze, "investigator"),
        make_person(city.yz_building, name="病例乙", region="140106"),
        onset=days_ago(3),
        reported=days_ago(1),
    )
    with pytest.raises(NotFound) as refused:
        services.zone_propose_declare(
            actor=xiaodian_officer,
            name="坞城2号楼",
            level="high",
            node_ids=[city.xd_building2.pk],
            case_ids=[elsewhere.pk],
        )
    assert "cases" in refused.value.fields
