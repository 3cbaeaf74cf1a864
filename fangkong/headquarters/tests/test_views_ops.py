"""The supervision, accountability, duty and care pages: in words in both
languages, a visit recorded on the page, another district's pages are 404s."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from fangkong.conftest import client_for, make_staff, raw_codes
from fangkong.headquarters import services
from fangkong.headquarters.models import Finding, FindingPhoto

pytestmark = pytest.mark.django_db


def _codes(html: str) -> list[str]:
    """Internal codes in the visible text of the page's main part."""
    main = html.split("<main", 1)[-1].split("</main>", 1)[0]
    return raw_codes(re.sub(r"<[^>]+>", " ", main.split(">", 1)[-1]))


@pytest.fixture
def inspector(city):
    return make_staff("inspector", city.city, "inspector")


def _plan(commander, inspector, city):
    today = timezone.localdate()
    return services.plan_create(
        actor=commander,
        title="封控区督导",
        area_id=city.xiaodian.pk,
        checklist_code="zone_control",
        starts_on=today,
        ends_on=today + dt.timedelta(days=1),
        inspector_id=inspector.pk,
    )


def test_a_plan_is_made_on_the_page(city, commander, inspector):
    c = client_for(commander)
    assert c.get("/hq/inspections/new/").status_code == 200
    today = timezone.localdate()
    made = c.post(
        "/hq/inspections/new/",
        {
            "title": "采样点督导",
            "area": city.xiaodian.pk,
            "checklist": "sampling_site",
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "inspector": inspector.pk,
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    bad = c.post("/hq/inspections/new/", {"title": ""})
    assert bad.status_code == 422


def test_a_visit_with_a_photo_is_recorded_on_the_page(city, commander, inspector, xiaodian_officer):
    plan = _plan(commander, inspector, city)
    items = list(plan.checklist.items.order_by("position"))
    c = client_for(inspector)
    assert c.get(f"/hq/inspections/{plan.pk}/visit/").status_code == 200
    jpeg = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 0, 0)).save(jpeg, "JPEG")
    data = {
        "unit": city.xd_grid.pk,
        "place": "坞城社区东门",
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "",
    }
    for i, item in enumerate(items):
        data[f"result_{item.pk}"] = "failed" if i == 0 else "passed"
        data[f"note_{item.pk}"] = "无人值守" if i == 0 else ""
        data[f"hours_{item.pk}"] = "48"
    data[f"photos_{items[0].pk}"] = SimpleUploadedFile("p.jpg", jpeg.getvalue(), "image/jpeg")
    done = c.post(f"/hq/inspections/{plan.pk}/visit/", data)
    assert done.status_code == 302, done.content.decode()[:3000]
    finding = Finding.objects.get(result="failed")
    assert FindingPhoto.objects.filter(finding=finding).count() == 1
    page = c.get(f"/hq/inspections/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Being rectified" in text and not _codes(text)
    photo = FindingPhoto.objects.get()
    assert (
        client_for(xiaodian_officer).get(f"/hq/inspections/photos/{photo.pk}/").status_code == 200
    )
    # A bad photo keeps everything out (nothing half-written).
    data[f"photos_{items[0].pk}"] = SimpleUploadedFile("p.jpg", b"not a photo", "image/jpeg")
    again = c.post(f"/hq/inspections/{plan.pk}/visit/", data)
    assert again.status_code == 422
    assert Finding.objects.count() == len(items)


def test_another_district_gets_404s(city, commander, inspector, yingze_officer):
    plan = _plan(commander, inspector, city)
    c = client_for(yingze_officer)
    assert c.get(f"/hq/inspections/{plan.pk}/").status_code == 404
    assert c.get(f"/hq/inspections/{plan.pk}/visit/").status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_pages_read_as_words(city, commander, inspector, lang):
    _plan(commander, inspector, city)
    now = timezone.now()
    services.shift_add(
        actor=commander,
        area_id=city.city.pk,
        user_id=commander.pk,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=8),
    )
    c = client_for(commander)
    for path in [
        "/hq/inspections/",
        "/hq/accountability/",
        "/hq/accountability/new/",
        "/hq/duty/",
        "/hq/taskforces/",
        "/hq/care/",
    ]:
        page = c.get(path, HTTP_ACCEPT_LANGUAGE=lang)
        assert page.status_code == 200, path
        found = _codes(page.content.decode())
        assert not found, (path, found)
