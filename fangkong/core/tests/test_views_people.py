"""People list, person page and unmasking in the staff pages."""

import pytest

from fangkong.conftest import client_for, make_person
from fangkong.core import services
from fangkong.core.models import AuditEntry, Household

pytestmark = pytest.mark.django_db


def test_the_people_list_shows_only_people_in_scope(city, xiaodian_officer):
    make_person(city.xd_building, name="王小店")
    make_person(city.yz_building, name="王迎泽", region="140106")
    r = client_for(xiaodian_officer).get("/people/")
    assert r.status_code == 200
    assert "王小店" in r.content.decode()
    assert "王迎泽" not in r.content.decode()


def test_it_searches_by_name_prefix_and_by_full_document_number(city, commander):
    a = make_person(city.xd_building, name="李雷")
    make_person(city.xd_building, name="韩梅梅")
    c = client_for(commander)
    page = c.get("/people/", {"q": "李"}).content.decode()
    assert "李雷" in page and "韩梅梅" not in page
    from fangkong.core.crypto import decrypt

    page = c.get("/people/", {"q": decrypt(a.doc_number_encrypted)}).content.decode()
    assert "李雷" in page and "韩梅梅" not in page


def test_it_filters_by_key_group_and_area(city, commander):
    make_person(city.xd_building, name="医生甲", key_groups=["medical_staff"])
    make_person(city.xd_building2, name="普通乙")
    c = client_for(commander)
    page = c.get("/people/", {"key_group": "medical_staff"}).content.decode()
    assert "医生甲" in page and "普通乙" not in page
    page = c.get("/people/", {"jurisdiction": city.xd_building2.pk}).content.decode()
    assert "普通乙" in page and "医生甲" not in page


def test_an_area_outside_the_users_scope_is_not_found(city, xiaodian_officer):
    r = client_for(xiaodian_officer).get("/people/", {"jurisdiction": city.yz_grid.pk})
    assert r.status_code == 404


def test_htmx_gets_only_the_results_table(city, commander):
    make_person(city.xd_building, name="赵六")
    r = client_for(commander).get("/people/", {"q": "赵"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert "赵六" in body
    assert "<html" not in body
    assert "HX-Request" in r["Vary"]
    r = client_for(commander).get(
        "/people/", {"q": "赵", "jurisdiction": city.xd_building2.pk}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and "赵六" not in r.content.decode()


def test_the_people_list_pages_without_counting(city, commander):
    for i in range(27):
        make_person(city.xd_building, name=f"测试{i:02d}")
    c = client_for(commander)
    first = c.get("/people/").content.decode()
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = c.get("/people/", {"page": 2}).content.decode()
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert second.count('href="/people/') >= 2


def test_a_user_without_person_view_is_refused(city, nobody):
    assert client_for(nobody).get("/people/").status_code == 403


def test_the_person_page_shows_masked_numbers_and_the_breadcrumb(city, grid_worker):
    p = make_person(
        city.xd_building, name="孙七", phone="13812345678", key_groups=["medical_staff"]
    )
    r = client_for(grid_worker).get(f"/people/{p.pk}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert p.doc_masked in page and "*" in p.doc_masked
    assert p.phone_masked in page and "13812345678" not in page
    assert f'href="/jurisdictions/{city.xd_grid.pk}/"' in page
    # The grid worker sees no crumbs above their own grid.
    assert f'href="/jurisdictions/{city.xiaodian.pk}/"' not in page
    # No unmask button without the capability.
    assert f"/people/{p.pk}/unmask/" not in page


def test_a_person_of_another_district_does_not_exist(city, yingze_officer):
    p = make_person(city.xd_building)
    r = client_for(yingze_officer).get(f"/people/{p.pk}/")
    assert r.status_code == 404
    assert "404" in r.content.decode()


def test_the_person_page_lists_household_members_in_scope(city, commander):
    hh = Household.objects.create(building=city.xd_building, unit="101")
    p = make_person(city.xd_building, name="户主")
    m = make_person(city.xd_building, name="家人")
    for person in (p, m):
        person.household = hh
        person.save(update_fields=["household"])
    page = client_for(commander).get(f"/people/{p.pk}/").content.decode()
    assert f'href="/people/{m.pk}/"' in page


def test_the_timeline_shows_changes_field_by_field(city, commander):
    p = make_person(city.xd_building, name="周八")
    services.person_update(
        actor=commander, person_id=p.pk, data={"name": "周八八"}, reason="typo fixed"
    )
    page = client_for(commander).get(f"/people/{p.pk}/").content.decode()
    assert "typo fixed" in page
    assert "周八" in page and "周八八" in page
    assert 'class="changes"' in page


def test_unmask_shows_the_full_numbers_and_writes_an_audit_row(city, investigator):
    p = make_person(city.xd_building, name="吴九", phone="13812345678")
    c = client_for(investigator)
    page = c.get(f"/people/{p.pk}/").content.decode()
    assert f"/people/{p.pk}/unmask/" in page
    form = c.get(f"/people/{p.pk}/unmask/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    r = c.post(
        f"/people/{p.pk}/unmask/", {"reason": "contact tracing call"}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "+8613812345678" in body
    from fangkong.core.crypto import decrypt

    assert decrypt(p.doc_number_encrypted) in body
    entry = AuditEntry.objects.get(action="person.unmask", person_id=p.pk)
    assert entry.reason == "contact tracing call"
    assert r["Cache-Control"] == "no-store"
    # The viewing appears on the person's timeline.
    assert "contact tracing call" in c.get(f"/people/{p.pk}/").content.decode()


def test_unmask_requires_a_reason(city, investigator):
    p = make_person(city.xd_building, phone="13812345678")
    r = client_for(investigator).post(f"/people/{p.pk}/unmask/", {"reason": ""})
    assert r.status_code == 422
    assert "+8613812345678" not in r.content.decode()
    r = client_for(investigator).post(f"/people/{p.pk}/unmask/", {"reason": "x"})
    assert r.status_code == 422
    assert not AuditEntry.objects.filter(action="person.unmask").exists()


def test_unmask_requires_the_capability(city, xiaodian_officer):
    p = make_person(city.xd_building, phone="13812345678")
    c = client_for(xiaodian_officer)
    assert c.get(f"/people/{p.pk}/unmask/").status_code == 403
    r = c.post(f"/people/{p.pk}/unmask/", {"reason": "curious about it"})
    assert r.status_code == 403
    assert not AuditEntry.objects.filter(action="person.unmask").exists()


def test_unmask_of_another_districts_person_is_not_found(city, investigator):
    p = make_person(city.yz_building, region="140106")
    r = client_for(investigator).post(f"/people/{p.pk}/unmask/", {"reason": "contact tracing"})
    assert r.status_code == 404
    assert not AuditEntry.objects.filter(action="person.unmask").exists()


def test_unmask_works_without_javascript(city, investigator):
    p = make_person(city.xd_building, name="郑十")
    c = client_for(investigator)
    page = c.get(f"/people/{p.pk}/unmask/").content.decode()
    assert "<html" in page and 'name="reason"' in page
    r = c.post(f"/people/{p.pk}/unmask/", {"reason": "calling the family"})
    assert r.status_code == 200 and "<html" in r.content.decode()


def test_the_timeline_includes_the_history_of_merged_records(city, commander):
    keep = make_person(city.xd_building, name="合并甲")
    dup = make_person(city.xd_building, name="合并乙")
    services.person_update(
        actor=commander, person_id=dup.pk, data={"home_unit": "9-909"}, reason="before merge"
    )
    services.person_merge(
        actor=commander, keep_id=keep.pk, duplicate_id=dup.pk, reason="same person twice"
    )
    page = client_for(commander).get(f"/people/{keep.pk}/").content.decode()
    assert "before merge" in page and "same person twice" in page
    assert "9-909" in page
    # The merged record still opens, pointing at the record kept.
    page = client_for(commander).get(f"/people/{dup.pk}/").content.decode()
    assert f'href="/people/{keep.pk}/"' in page


def test_the_person_page_leads_to_the_status_panel_for_status_staff(city, commander):
    from django.urls import reverse

    person = make_person(city.xd_building)
    panel = reverse("status:person", args=[person.pk])
    page = client_for(commander).get(reverse("core:person", args=[person.pk])).content.decode()
    assert panel in page
    assert client_for(commander).get(panel).status_code == 200
