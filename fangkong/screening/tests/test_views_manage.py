"""The set-up pages (rounds, sites, labs, teams) and the review of held and
conflicting results: created through the pages, bad input shown next to the
field with nothing created, other districts and roles kept out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_staff
from fangkong.core.models import AuditEntry
from fangkong.core.signing import person_token
from fangkong.screening.models import Lab, ResultReport, Round, Site, Team
from fangkong.screening.services import custody, results, sampling
from fangkong.screening.tests.kit import Kit, build, people

PAGES = [
    "/screening/setup/rounds/",
    "/screening/setup/sites/",
    "/screening/setup/labs/",
    "/screening/setup/teams/",
    "/screening/reviews/",
]


@pytest.fixture
def kit(city: Any) -> Kit:
    return build(city)


@pytest.fixture
def xiaodian(kit: Kit) -> Any:
    return make_staff("xd_officer", kit.city.xiaodian, "district_officer")


@pytest.fixture
def yingze(kit: Kit) -> Any:
    return make_staff("yz_officer", kit.city.yingze, "district_officer")


def _when(hours: int) -> str:
    return (timezone.localtime() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def _round_form(kit: Kit, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "第2轮",
        "area_ids": [kit.city.xd_grid.pk],
        "target": "all",
        "starts_at": _when(1),
        "ends_at": _when(25),
        "pooling_ratio": "10",
        "lab_ids": [kit.lab.pk],
    }
    data.update(over)
    return data


def _site_form(kit: Kit, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "平阳路采样点",
        "jurisdiction_id": kit.city.xd_grid.pk,
        "address": "平阳路1号",
        "lat": "37.82",
        "lon": "112.56",
        "opens_at": "07:00",
        "closes_at": "21:00",
        "lanes": "3",
    }
    data.update(over)
    return data


def _conflict(kit: Kit) -> ResultReport:
    """A tube of Xiaodian reported negative, then positive by the same lab."""
    crowd = people(kit.city, 2)
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="T1", site_id=kit.site.pk)
    for p in crowd:
        sampling.tube_scan(actor=kit.sampler, barcode="T1", person_token=person_token(p.pk))
    sampling.tube_close(actor=kit.sampler, barcode="T1")
    custody.box_pack(actor=kit.sampler, round_id=kit.round.pk, barcode="B1", tube_barcodes=["T1"])
    custody.box_hand_over(actor=kit.sampler, barcode="B1", place="坞城")
    custody.box_receive(actor=kit.labtech, lab_id=kit.lab.pk, barcode="B1")
    results.results_import(
        actor=kit.labtech, lab_id=kit.lab.pk, rows=[{"tube": "T1", "result": "negative"}]
    )
    results.results_import(
        actor=kit.labtech,
        lab_id=kit.lab.pk,
        rows=[{"tube": "T1", "result": "positive", "ct_values": {"ORF1ab": 28.5}}],
    )
    return ResultReport.objects.get(status=ResultReport.Status.CONFLICT)


# --- Creating through the pages --------------------------------------------------------


def test_a_district_officer_creates_a_round_through_the_page(kit: Kit, xiaodian: Any) -> None:
    c = client_for(xiaodian)
    page = c.get("/screening/setup/rounds/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    # The area picker offers the officer's own subtree only.
    body = page.content.decode()
    assert "Pingyang Grid 1" in body and "Liuxiang Grid 1" not in body
    r = c.post("/screening/setup/rounds/", _round_form(kit))
    assert r.status_code == 302
    rnd = Round.objects.get(name="第2轮")
    assert list(rnd.areas.all()) == [kit.city.xd_grid]
    assert rnd.pooling_ratio == 10 and list(rnd.labs.all()) == [kit.lab]
    assert rnd.scope_path == kit.city.xd_grid.path
    listing = c.get("/screening/setup/rounds/").content.decode()
    assert "第2轮" in listing


def test_a_round_of_key_groups_needs_known_groups(kit: Kit, xiaodian: Any) -> None:
    c = client_for(xiaodian)
    r = c.post(
        "/screening/setup/rounds/",
        _round_form(kit, target="key_groups"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    assert 'id="id_key_group_codes_error"' in r.content.decode()
    assert not Round.objects.filter(name="第2轮").exists()


def test_a_round_ending_before_it_starts_shows_the_error_next_to_the_end(
    kit: Kit, xiaodian: Any
) -> None:
    r = client_for(xiaodian).post(
        "/screening/setup/rounds/",
        _round_form(kit, ends_at=_when(-5)),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'id="id_ends_at_error"' in body and "The end is before the start." in body
    assert not Round.objects.filter(name="第2轮").exists()


def test_a_pooling_ratio_outside_the_allowed_ones_is_refused(kit: Kit, xiaodian: Any) -> None:
    r = client_for(xiaodian).post(
        "/screening/setup/rounds/", _round_form(kit, pooling_ratio="7"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert r.status_code == 400 and 'id="id_pooling_ratio_error"' in r.content.decode()
    assert not Round.objects.filter(name="第2轮").exists()


def test_an_open_round_is_closed_from_the_list(kit: Kit) -> None:
    r = client_for(kit.manager).post(f"/screening/setup/rounds/{kit.round.pk}/close/")
    assert r.status_code == 302
    kit.round.refresh_from_db()
    assert kit.round.state == Round.State.CLOSED


def test_a_sampling_site_is_created_through_the_page(kit: Kit, xiaodian: Any) -> None:
    c = client_for(xiaodian)
    r = c.post("/screening/setup/sites/", _site_form(kit))
    assert r.status_code == 302
    site = Site.objects.get(name="平阳路采样点")
    assert site.jurisdiction == kit.city.xd_grid and site.lanes == 3
    assert site.hours_text == "07:00–21:00"
    assert "平阳路采样点" in c.get("/screening/setup/sites/").content.decode()


def test_a_site_with_an_impossible_latitude_shows_the_error_and_is_not_created(
    kit: Kit, xiaodian: Any
) -> None:
    r = client_for(xiaodian).post(
        "/screening/setup/sites/", _site_form(kit, lat="137"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'id="id_lat_error"' in body and "between -90 and 90" in body
    assert not Site.objects.filter(name="平阳路采样点").exists()


def test_the_queue_state_of_a_site_is_set_from_the_list(kit: Kit, xiaodian: Any) -> None:
    r = client_for(xiaodian).post(
        f"/screening/setup/sites/{kit.site.pk}/queue/", {"queue_state": "long"}
    )
    assert r.status_code == 302
    kit.site.refresh_from_db()
    assert kit.site.queue_state == "long"


def test_a_lab_is_created_through_the_page(kit: Kit) -> None:
    r = client_for(kit.manager).post(
        "/screening/setup/labs/",
        {
            "name": "金域检验",
            "code": "kingmed",
            "capacity_per_day": "5000",
            "jurisdiction_id": kit.city.city.pk,
        },
    )
    assert r.status_code == 302
    lab = Lab.objects.get(code="kingmed")
    assert lab.capacity_per_day == 5000 and lab.jurisdiction == kit.city.city


def test_a_lab_code_already_taken_shows_the_error_next_to_the_code(kit: Kit) -> None:
    r = client_for(kit.manager).post(
        "/screening/setup/labs/",
        {
            "name": "另一家",
            "code": "dian",
            "capacity_per_day": "100",
            "jurisdiction_id": kit.city.city.pk,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert 'id="id_code_error"' in body and "This code is taken." in body
    assert Lab.objects.count() == 1


def test_a_door_to_door_team_is_created_through_the_page(kit: Kit, xiaodian: Any) -> None:
    c = client_for(xiaodian)
    r = c.post(
        "/screening/setup/teams/",
        {"name": "平阳上门队", "area_id": kit.city.xd_grid.pk, "door_to_door": "on"},
    )
    assert r.status_code == 302
    team = Team.objects.get(name="平阳上门队")
    assert team.door_to_door and team.area == kit.city.xd_grid
    r = c.post("/screening/setup/teams/", {"name": "平阳采样队", "area_id": kit.city.xd_grid.pk})
    assert not Team.objects.get(name="平阳采样队").door_to_door


def test_a_team_without_a_name_is_not_created(kit: Kit, xiaodian: Any) -> None:
    before = Team.objects.count()
    r = client_for(xiaodian).post(
        "/screening/setup/teams/", {"name": "", "area_id": kit.city.xd_grid.pk}
    )
    assert r.status_code == 400 and 'id="id_name_error"' in r.content.decode()
    assert Team.objects.count() == before


# --- Who may reach the pages ---------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_a_sampler_cannot_reach_the_set_up_pages(kit: Kit, url: str) -> None:
    assert client_for(kit.sampler).get(url).status_code == 403


def test_a_sampler_cannot_create_a_site_by_posting(kit: Kit) -> None:
    r = client_for(kit.sampler).post("/screening/setup/sites/", _site_form(kit))
    assert r.status_code == 403
    assert not Site.objects.filter(name="平阳路采样点").exists()


def test_an_officer_of_another_district_cannot_place_things_in_xiaodian(
    kit: Kit, yingze: Any
) -> None:
    c = client_for(yingze)
    assert c.post("/screening/setup/sites/", _site_form(kit)).status_code == 404
    assert c.post("/screening/setup/rounds/", _round_form(kit)).status_code == 404
    r = c.post("/screening/setup/teams/", {"name": "越界队", "area_id": kit.city.xd_grid.pk})
    assert r.status_code == 404
    assert not Site.objects.filter(name="平阳路采样点").exists()
    assert not Round.objects.filter(name="第2轮").exists()
    assert not Team.objects.filter(name="越界队").exists()
    # Nor does the Xiaodian site appear on the Yingze officer's list, nor can its queue be set.
    assert kit.site.name not in c.get("/screening/setup/sites/").content.decode()
    r = c.post(f"/screening/setup/sites/{kit.site.pk}/queue/", {"queue_state": "long"})
    assert r.status_code == 404


def test_the_overview_links_the_set_up_pages_only_for_who_may_use_them(
    kit: Kit, xiaodian: Any
) -> None:
    assert 'data-testid="setup-links"' in client_for(xiaodian).get("/screening/").content.decode()
    inspector = make_staff("inspector", kit.city.xiaodian, "inspector")
    body = client_for(inspector).get("/screening/").content.decode()
    assert 'data-testid="setup-links"' not in body and "/screening/setup/" not in body


# --- Reviewing held and conflicting results --------------------------------------------------


def test_the_review_page_lists_a_conflict_with_both_results_and_reviewing_removes_it(
    kit: Kit, xiaodian: Any
) -> None:
    report = _conflict(kit)
    c = client_for(xiaodian)
    overview = c.get("/screening/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Results to review (1)" in overview
    page = c.get("/screening/reviews/", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'data-report="{report.pk}"' in body and "T1" in body
    assert "Positive" in body and "Negative" in body  # reported and earlier result
    assert "Conflicts with the applied result" in body

    r = c.post(
        "/screening/reviews/",
        {"report_id": report.pk, f"r{report.pk}-note": "实验室复核：阴性为准"},
    )
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.status == ResultReport.Status.RESOLVED
    entry = AuditEntry.objects.get(action="screening.result.review", object_id=str(report.pk))
    assert entry.actor == xiaodian and entry.reason == "实验室复核：阴性为准"
    body = c.get("/screening/reviews/").content.decode()
    assert f'data-report="{report.pk}"' not in body and 'data-testid="reviews-empty"' in body
    # The same form sent again (a double click) reviews nothing twice.
    r = c.post(
        "/screening/reviews/",
        {"report_id": report.pk, f"r{report.pk}-note": "实验室复核：阴性为准"},
    )
    assert r.status_code == 302
    assert AuditEntry.objects.filter(action="screening.result.review").count() == 1


def test_a_review_needs_a_note(kit: Kit, xiaodian: Any) -> None:
    report = _conflict(kit)
    r = client_for(xiaodian).post(
        "/screening/reviews/", {"report_id": report.pk, f"r{report.pk}-note": " "}
    )
    assert r.status_code == 400 and f'id="id_r{report.pk}-note_error"' in r.content.decode()
    report.refresh_from_db()
    assert report.status == ResultReport.Status.CONFLICT
    assert not AuditEntry.objects.filter(action="screening.result.review").exists()


def test_a_result_for_an_unknown_tube_is_listed_with_why_it_was_held(kit: Kit) -> None:
    results.results_import(
        actor=kit.labtech, lab_id=kit.lab.pk, rows=[{"tube": "NOPE9", "result": "negative"}]
    )
    body = client_for(kit.manager).get("/screening/reviews/", HTTP_ACCEPT_LANGUAGE="en")
    assert "NOPE9" in body.content.decode() and "Held: unknown tube" in body.content.decode()


def test_another_district_neither_sees_nor_reviews_a_xiaodian_conflict(
    kit: Kit, yingze: Any
) -> None:
    report = _conflict(kit)
    c = client_for(yingze)
    assert f'data-report="{report.pk}"' not in c.get("/screening/reviews/").content.decode()
    r = c.post("/screening/reviews/", {"report_id": report.pk, f"r{report.pk}-note": "越权"})
    assert r.status_code == 404
    report.refresh_from_db()
    assert report.status == ResultReport.Status.CONFLICT


def test_the_lab_page_links_the_review_for_reviewers_only(kit: Kit) -> None:
    _conflict(kit)
    head = make_staff("labhead", kit.city.city, "lab_technician", "city_commander")
    body = client_for(head).get("/screening/lab/", HTTP_ACCEPT_LANGUAGE="en")
    assert body.status_code == 200
    assert f'href="/screening/reviews/?lab={kit.lab.pk}"' in body.content.decode()
    assert "Results to review (1)" in body.content.decode()
    # The lab technician reports results but does not review them.
    tech = client_for(kit.labtech).get("/screening/lab/").content.decode()
    assert 'data-testid="review-link"' not in tech
    assert client_for(kit.labtech).get("/screening/reviews/").status_code == 403


def test_the_command_centre_lists_results_waiting_for_review(kit: Kit, xiaodian: Any) -> None:
    from fangkong.screening.dashboard import attention

    _conflict(kit)
    items = attention(xiaodian)
    assert [i["count"] for i in items] == [1] and items[0]["url"] == "/screening/reviews/"
    assert attention(kit.sampler) == []


# --- Exclusions from the untested list ------------------------------------------------------


def test_a_person_away_is_excluded_from_the_untested_list_with_a_reason(
    kit: Kit, xiaodian: Any
) -> None:
    from fangkong.conftest import make_person
    from fangkong.screening.models import Exclusion

    person = make_person(kit.city.xd_building, name="钱七")
    base = f"/screening/rounds/{kit.round.pk}/untested/{kit.city.xd_grid.pk}/"
    c = client_for(xiaodian)
    assert "钱七" in c.get(base).content.decode()
    r = c.post(
        base + "action/",
        {"action": "exclude", "person_id": person.pk, "reason": "away", "note": "在外地"},
    )
    assert r.status_code == 302
    excl = Exclusion.objects.get(round=kit.round, person=person)
    assert excl.reason == "away" and excl.note == "在外地"
    assert "钱七" not in c.get(base).content.decode()
    assert AuditEntry.objects.filter(action="screening.exclusion.add").count() == 1


def test_another_district_cannot_exclude_a_xiaodian_resident(kit: Kit, yingze: Any) -> None:
    from fangkong.conftest import make_person
    from fangkong.screening.models import Exclusion

    person = make_person(kit.city.xd_building, name="钱七")
    r = client_for(yingze).post(
        f"/screening/rounds/{kit.round.pk}/untested/{kit.city.yz_grid.pk}/action/",
        {"action": "exclude", "person_id": person.pk, "reason": "away"},
    )
    assert r.status_code == 404
    assert not Exclusion.objects.exists()
