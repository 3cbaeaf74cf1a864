"""A breach of a quarantine site's closed loop reaches investigation through the fact
``quarantine.breach_reported``: one inquiry per breach, taken up and closed with
findings by an investigator of the site's area, shown back on the site's staff page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.conftest import client_for, make_staff
from fangkong.core import events
from fangkong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.investigation.models import BreachInquiry
from fangkong.investigation.services import breaches as breach_services
from fangkong.quarantine import services as quarantine
from fangkong.quarantine.tests.kit import active_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(city):
    return make_staff("qmanager", city.xiaodian, "quarantine_manager")


@pytest.fixture
def breach(city, manager, commander):
    site = active_site(manager, commander, city.xiaodian, rooms=2, name="如家酒店")
    guard = quarantine.staff_add(
        actor=manager, site_id=site.pk, name="王保安", role="security", phone="13912345678"
    )
    return quarantine.breach_report(
        actor=manager,
        site_id=site.pk,
        kind="zone_crossing",
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        description="未脱防护服进入清洁区",
        staff_ids=[guard.pk],
    )


def test_a_reported_breach_opens_one_inquiry_in_the_sites_area(breach):
    inquiry = BreachInquiry.objects.get()
    assert inquiry.breach_id == breach.pk
    assert inquiry.site_name == "如家酒店"
    assert inquiry.scope_path == breach.scope_path
    assert inquiry.state == "open"
    assert inquiry.occurred_at == breach.occurred_at
    assert AuditEntry.objects.filter(action="breach_inquiry.open").count() == 1


def test_the_fact_delivered_twice_opens_one_inquiry(breach):
    from fangkong.investigation.listeners import on_breach_reported

    on_breach_reported(
        breach_id=breach.pk,
        site_name="如家酒店",
        scope_path=breach.scope_path,
        occurred_at=breach.occurred_at.isoformat(),
    )
    assert BreachInquiry.objects.count() == 1
    assert events.subscribers("quarantine.breach_reported")


def test_an_investigator_takes_it_up_and_closes_it_with_findings(breach, investigator):
    inquiry = BreachInquiry.objects.get()
    taken = breach_services.breach_inquiry_take(actor=investigator, inquiry_id=inquiry.pk)
    assert taken.state == "in_progress" and taken.investigator == investigator
    with pytest.raises(Conflict):
        breach_services.breach_inquiry_take(actor=investigator, inquiry_id=inquiry.pk)
    with pytest.raises(ValidationFailed) as exc:
        breach_services.breach_inquiry_close(
            actor=investigator, inquiry_id=inquiry.pk, outcome="maybe", findings=" "
        )
    assert set(exc.value.fields) == {"outcome", "findings"}
    assert BreachInquiry.objects.get().state == "in_progress"
    closed = breach_services.breach_inquiry_close(
        actor=investigator,
        inquiry_id=inquiry.pk,
        outcome="exposure",
        findings="该员在清洁区停留约十分钟，已转集中隔离观察",
    )
    assert closed.state == "closed" and closed.outcome == "exposure"
    assert closed.closed_at is not None
    with pytest.raises(Conflict):
        breach_services.breach_inquiry_close(
            actor=investigator, inquiry_id=inquiry.pk, outcome="no_exposure", findings="x"
        )


def test_another_district_or_a_site_manager_cannot_touch_it(breach, city, manager):
    inquiry = BreachInquiry.objects.get()
    other = make_staff("yz_investigator", city.yingze, "investigator")
    with pytest.raises(NotFound):
        breach_services.breach_inquiry_take(actor=other, inquiry_id=inquiry.pk)
    with pytest.raises(PermissionDenied):
        breach_services.breach_inquiry_take(actor=manager, inquiry_id=inquiry.pk)
    assert client_for(other).get(f"/investigation/breaches/{inquiry.pk}/").status_code == 404
    assert "如家酒店" not in client_for(other).get("/investigation/breaches/").content.decode()


def test_the_pages_show_the_breach_and_the_site_sees_the_outcome(breach, investigator, manager):
    inquiry = BreachInquiry.objects.get()
    c = client_for(investigator)
    listing = c.get("/investigation/breaches/").content.decode()
    assert "如家酒店" in listing
    page = c.get(f"/investigation/breaches/{inquiry.pk}/").content.decode()
    assert "王保安" in page and "未脱防护服进入清洁区" in page
    assert "13912345678" not in page and "5678" in page
    assert c.post(f"/investigation/breaches/{inquiry.pk}/take/").status_code == 302
    bad = c.post(f"/investigation/breaches/{inquiry.pk}/close/", {"outcome": "", "findings": ""})
    assert bad.status_code == 422
    assert BreachInquiry.objects.get().state == "in_progress"
    done = c.post(
        f"/investigation/breaches/{inquiry.pk}/close/",
        {"outcome": "no_exposure", "findings": "监控核实未接触隔离人员"},
    )
    assert done.status_code == 302
    staff_page = client_for(manager).get("/quarantine/staff/").content.decode()
    assert "监控核实未接触隔离人员" in staff_page
    assert "未发现暴露" in staff_page  # the manager reads Chinese
