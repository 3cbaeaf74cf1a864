"""Overview, jurisdiction browser and error pages."""

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.conftest import client_for, make_person
from fangkong.core import services

pytestmark = pytest.mark.django_db


def test_the_overview_shows_the_users_area_and_its_counts(city, xiaodian_officer):
    make_person(city.xd_building)
    make_person(city.xd_building2)
    services.jurisdiction_recount()
    r = client_for(xiaodian_officer).get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    assert r.context["node"] == city.xiaodian
    assert r.context["residents"] == 2
    counts = dict(r.context["level_counts"])
    assert counts["Building"] == 2 and counts["Grid unit"] == 1
    page = r.content.decode()
    assert 'action="/people/"' in page  # quick search
    assert "Yingze" not in page


def test_the_overview_renders_for_a_user_without_a_staff_profile(nobody):
    r = client_for(nobody).get(reverse("core:home"))
    assert r.status_code == 200
    assert r.context["node"] is None
    assert 'href="/people/"' not in r.content.decode()


def test_the_navigation_offers_only_the_users_modules(city, grid_worker, auditor):
    page = client_for(grid_worker).get(reverse("core:home")).content.decode()
    assert 'href="/people/"' in page and 'href="/audit/"' not in page
    page = client_for(auditor).get(reverse("core:home")).content.decode()
    assert 'href="/audit/"' in page


def test_the_jurisdiction_page_lists_children_with_counts(city, commander):
    make_person(city.xd_building)
    services.jurisdiction_recount()
    c = client_for(commander)
    r = c.get("/jurisdictions/")
    assert r.status_code == 302 and r["Location"] == f"/jurisdictions/{city.city.pk}/"
    r = c.get(f"/jurisdictions/{city.city.pk}/")
    assert r.status_code == 200
    children = r.context["children"].items
    assert [n.pk for n in children] == [city.xiaodian.pk, city.yingze.pk]
    assert children[0].resident_count == 1
    page = r.content.decode()
    assert f'href="/people/?jurisdiction={city.xiaodian.pk}"' in page


def test_the_jurisdiction_page_has_a_breadcrumb(city, commander):
    r = client_for(commander).get(f"/jurisdictions/{city.xd_building.pk}/")
    page = r.content.decode()
    for node in (city.city, city.xiaodian, city.xd_grid, city.xd_building):
        assert f'href="/jurisdictions/{node.pk}/"' in page
    # Above the commander's own node the tree is not shown.
    assert f'href="/jurisdictions/{city.province.pk}/"' not in page


def test_a_node_of_another_district_does_not_exist(city, xiaodian_officer):
    assert client_for(xiaodian_officer).get(f"/jurisdictions/{city.yingze.pk}/").status_code == 404
    assert client_for(xiaodian_officer).get("/jurisdictions/999999/").status_code == 404


def test_the_404_page_is_translated_and_uses_the_layout(city, yingze_officer):
    c = client_for(yingze_officer)
    c.cookies["django_language"] = "zh-hans"
    r = c.get(f"/jurisdictions/{city.xiaodian.pk}/")
    page = r.content.decode()
    assert r.status_code == 404
    assert '<html lang="zh-hans">' in page
    assert "页面没有找到" in page  # Django's own catalogue
    assert 'class="sidenav"' in page


def test_the_403_page_uses_the_layout(city, grid_worker):
    r = client_for(grid_worker).get("/audit/")
    assert r.status_code == 403
    assert 'class="sidenav"' in r.content.decode()


def test_static_files_of_the_layout_are_served(db):
    c = Client()
    assert c.get("/static/fangkong/app.css").status_code == 200
    assert c.get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_the_500_page_renders_without_a_request(db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "500" in html and "<html lang=" in html
