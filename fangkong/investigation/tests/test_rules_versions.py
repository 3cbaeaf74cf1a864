"""New versions of a disease's rules: service, API and staff page. History is
never rewritten: old versions stay, decisions keep the version they used."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_person
from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import DiseaseRules
from fangkong.investigation.services.rules import rules_add_version, rules_in_force
from fangkong.investigation.tests.casekit import days_ago, new_case, new_contact
from fangkong.investigation.tests.pages_support import en_client

pytestmark = pytest.mark.django_db
J = "application/json"


def _today() -> dt.date:
    return timezone.localdate()


def test_a_new_version_takes_effect_from_its_date_and_decisions_keep_theirs(
    city: Any, commander: Any, investigator: Any
) -> None:
    case = new_case(investigator, make_person(city.xd_building), onset=days_ago(3))
    contact = new_contact(investigator, make_person(city.xd_building2), case=case)
    old = case.rules
    assert contact.rules_id == old.pk
    before = dict(DiseaseRules.objects.filter(pk=old.pk).values().get())

    new = rules_add_version(
        actor=commander,
        disease_code="covid19",
        effective_from=_today(),
        source_document="第十版",
        close_contact_monitoring_days=5,
        reason="new protocol",
    )

    assert new.version == old.version + 1
    # Parameters not given are carried over; the given one changed.
    assert new.close_contact_monitoring_days == 5
    assert new.copresence_buffer_minutes == old.copresence_buffer_minutes
    assert new.classifications == old.classifications
    # The old version is untouched and still in force for earlier days.
    assert dict(DiseaseRules.objects.filter(pk=old.pk).values().get()) == before
    assert rules_in_force("covid19", days_ago(1)) == old
    assert rules_in_force("covid19", _today()) == new
    # Decisions already taken keep their version.
    case.refresh_from_db()
    contact.refresh_from_db()
    assert case.rules_id == old.pk and contact.rules_id == old.pk
    # A case reported from today uses the new version.
    later = new_case(
        investigator, make_person(city.xd_building), onset=days_ago(1), reported=_today()
    )
    assert later.rules_id == new.pk
    entry = AuditEntry.objects.get(action="rules.version")
    assert entry.changes["close_contact_monitoring_days"] == [8, 5]
    assert entry.reason == "new protocol"


def test_a_version_cannot_take_effect_in_the_past_or_before_the_latest(commander: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules_add_version(
            actor=commander,
            disease_code="covid19",
            effective_from=days_ago(1),
            source_document="x",
        )
    assert "effective_from" in exc.value.fields
    rules_add_version(
        actor=commander,
        disease_code="covid19",
        effective_from=_today() + dt.timedelta(days=10),
        source_document="upcoming",
    )
    with pytest.raises(ValidationFailed) as exc:
        rules_add_version(
            actor=commander,
            disease_code="covid19",
            effective_from=_today() + dt.timedelta(days=5),
            source_document="in between",
        )
    assert "effective_from" in exc.value.fields
    assert DiseaseRules.objects.filter(disease__code="covid19").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source_document": " "}, "source_document"),
        ({"close_contact_monitoring_days": 0}, "close_contact_monitoring_days"),
        ({"copresence_buffer_minutes": 100_000}, "copresence_buffer_minutes"),
        ({"classifications": ["zombie"]}, "classifications"),
        ({"classifications": []}, "classifications"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    commander: Any, change: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"source_document": "第十版", **change}
    with pytest.raises(ValidationFailed) as exc:
        rules_add_version(actor=commander, disease_code="covid19", effective_from=_today(), **args)
    assert field in exc.value.fields
    assert DiseaseRules.objects.filter(disease__code="covid19").count() == 1


def test_only_holders_of_rules_manage_add_versions(investigator: Any) -> None:
    with pytest.raises(PermissionDenied):
        rules_add_version(
            actor=investigator,
            disease_code="covid19",
            effective_from=_today(),
            source_document="x",
        )


# --- API -------------------------------------------------------------------------


def test_api_adds_a_version(commander: Any) -> None:
    r = client_for(commander).post(
        "/api/v1/diseases/measles/rules",
        {
            "effective_from": _today().isoformat(),
            "source_document": "WS 296-2017 修订",
            "venue_exposed_monitoring_days": 14,
        },
        content_type=J,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["version"], body["venue_exposed_monitoring_days"]) == (2, 14)
    assert body["close_contact_monitoring_days"] == 21
    listed = client_for(commander).get("/api/v1/diseases/measles/rules").json()
    assert [v["version"] for v in listed] == [2, 1]


def test_api_refusals_name_the_field(commander: Any, investigator: Any) -> None:
    r = client_for(commander).post(
        "/api/v1/diseases/covid19/rules",
        {"effective_from": days_ago(3).isoformat(), "source_document": "x"},
        content_type=J,
    )
    assert r.status_code == 400
    assert "effective_from" in r.json()["error"]["fields"]
    r = client_for(investigator).post(
        "/api/v1/diseases/covid19/rules",
        {"effective_from": _today().isoformat(), "source_document": "x"},
        content_type=J,
    )
    assert r.status_code == 403


# --- Page ------------------------------------------------------------------------


def test_the_page_lists_versions_and_adds_one(commander: Any) -> None:
    c = en_client(commander)
    r = c.get("/investigation/rules/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Add a new version" in html and "in force" in html
    data: dict[str, Any] = {
        "covid19-effective_from": (_today() + dt.timedelta(days=1)).isoformat(),
        "covid19-source_document": "第十版",
        "covid19-classifications": ["suspected", "confirmed", "asymptomatic", "excluded"],
        "covid19-reason": "",
    }
    old = rules_in_force("covid19", _today())
    from fangkong.investigation.services.rules import RULE_PARAMETERS

    for name in RULE_PARAMETERS:
        data[f"covid19-{name}"] = getattr(old, name)
    data["covid19-close_contact_monitoring_days"] = 7
    r = c.post("/investigation/rules/covid19/", data)
    assert r.status_code == 302
    new = DiseaseRules.objects.get(disease__code="covid19", version=2)
    assert new.close_contact_monitoring_days == 7
    html = c.get("/investigation/rules/").content.decode()
    assert "upcoming" in html and "第十版" in html


def test_the_page_shows_a_refusal_on_its_field(commander: Any) -> None:
    c = en_client(commander)
    old = rules_in_force("covid19", _today())
    from fangkong.investigation.services.rules import RULE_PARAMETERS

    data: dict[str, Any] = {f"covid19-{n}": getattr(old, n) for n in RULE_PARAMETERS}
    data.update(
        {
            "covid19-effective_from": days_ago(2).isoformat(),
            "covid19-source_document": "x",
            "covid19-classifications": ["confirmed"],
        }
    )
    r = c.post("/investigation/rules/covid19/", data)
    assert r.status_code == 422
    assert "cannot take effect in the past" in r.content.decode()
    assert DiseaseRules.objects.filter(disease__code="covid19").count() == 1


def test_staff_without_rules_manage_see_the_versions_but_no_form(investigator: Any) -> None:
    c = en_client(investigator)
    r = c.get("/investigation/rules/")
    assert r.status_code == 200
    assert "Add a new version" not in r.content.decode()
    r = c.post("/investigation/rules/covid19/", {"covid19-source_document": "x"})
    assert r.status_code == 403
    assert DiseaseRules.objects.filter(disease__code="covid19").count() == 1
