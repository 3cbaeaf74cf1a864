import collections
import datetime as dt
import random

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from stdnum.cn import ric

from fangkong.core import synth_data
from fangkong.core.crypto import decrypt, lookup_hash, mask
from fangkong.core.errors import Conflict, ValidationFailed
from fangkong.core.identity import normalise_document
from fangkong.core.models import AuditEntry, Household, Jurisdiction, Person
from fangkong.core.services import jurisdiction_build
from fangkong.core.synth import _People, split_box, synthetic_city_build
from fangkong.investigation.models import Venue

pytestmark = pytest.mark.django_db


def snapshot():
    people = list(
        Person.objects.order_by("id").values_list(
            "doc_masked",
            "doc_hash",
            "name",
            "sex",
            "birth_date",
            "phone_hash",
            "home__path",
            "home_unit",
            "limited_mobility",
            "language",
        )
    )
    tree = list(
        Jurisdiction.objects.order_by("path").values_list(
            "path", "level", "code", "name_zh", "name_en", "boundary", "resident_count"
        )
    )
    venues = list(Venue.objects.order_by("id").values_list("name", "category", "scope_path"))
    return people, tree, venues


def wipe():
    Venue.objects.all().delete()
    Person.key_groups.through.objects.all().delete()
    Person.objects.all().delete()
    Household.objects.all().delete()
    for level in reversed(Jurisdiction.LEVEL_ORDER):
        Jurisdiction.objects.filter(level=level).delete()


def test_the_same_seed_builds_the_same_city():
    synthetic_city_build(residents=400, seed=7, districts=2)
    first = snapshot()
    wipe()
    synthetic_city_build(residents=400, seed=7, districts=2)
    assert snapshot() == first
    wipe()
    synthetic_city_build(residents=400, seed=8, districts=2)
    assert snapshot()[0] != first[0]


def test_every_resident_has_a_valid_unique_document_and_a_valid_phone():
    synthetic_city_build(residents=1500, seed=3, districts=3)
    people = list(Person.objects.select_related("home"))
    assert len(people) == 1500
    docs = set()
    for p in people:
        number = decrypt(p.doc_number_encrypted)
        docs.add(number)
        assert p.doc_hash == lookup_hash("doc", number)
        assert p.doc_masked == mask(number)
        doc = normalise_document(p.doc_type, number)  # raises if invalid
        if p.doc_type == "prc_id":
            assert ric.calc_check_digit(number) == number[-1]  # as make_prc_id
            assert doc.birth_date == p.birth_date and doc.sex == p.sex
            district = Jurisdiction.objects.get(path=p.scope_path[:12])
            assert number[:6] == district.code
        if p.phone_encrypted:
            phone = decrypt(p.phone_encrypted)
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
            assert p.phone_hash == lookup_hash("phone", phone)
        assert p.home is not None
        assert p.home.level == "building" and p.scope_path == p.home.path
    assert len(docs) == 1500


def test_the_phone_prefixes_are_valid_mobile_numbers():
    rng = random.Random(1)
    for prefix in synth_data.MOBILE_PREFIXES:
        for _i in range(30):
            number = phonenumbers.parse(f"+86{prefix}{rng.randrange(10**8):08d}")
            assert phonenumbers.is_valid_number(number), number
            assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_the_tree_goes_from_province_to_buildings_with_nested_boundaries():
    synthetic_city_build(residents=3000, seed=5, districts=2)
    city = Jurisdiction.objects.get(code="140100")
    assert city.parent is not None and city.parent.code == "140000"
    assert sorted(city.children.values_list("code", "name_zh")) == [
        ("140105", "小店区"),
        ("140106", "迎泽区"),
    ]
    levels = collections.Counter(Jurisdiction.objects.values_list("level", flat=True))
    assert set(levels) == set(Jurisdiction.LEVEL_ORDER)
    by_id = {n.pk: n for n in Jurisdiction.objects.all()}
    for node in by_id.values():
        assert node.name_zh and node.name_en
        assert node.boundary is not None and node.boundary["type"] == "Polygon"
        if node.parent_id:
            parent = by_id[node.parent_id]
            assert parent.boundary is not None
            assert node.path.startswith(parent.path) and node.depth == parent.depth + 1
            (w, s), _se, (e, n), *_rest = node.boundary["coordinates"][0]
            (pw, ps), _pse, (pe, pn), *_prest = parent.boundary["coordinates"][0]
            assert pw <= w < e <= pe and ps <= s < n <= pn
        children = [c for c in by_id.values() if c.parent_id == node.pk]
        assert node.next_child_index == len(children)
    for b in Jurisdiction.objects.filter(level="building"):
        assert b.resident_count <= 150
    grids = Jurisdiction.objects.filter(level="grid")
    assert all(g.children.count() <= 15 for g in grids)


def test_resident_counts_match_the_people():
    synthetic_city_build(residents=900, seed=2, districts=2)
    for node in Jurisdiction.objects.all():
        assert node.resident_count == Person.objects.under(node.path).count()
    assert Jurisdiction.objects.get(code="140000").resident_count == 900


def test_households_have_one_to_six_members_in_one_building():
    synthetic_city_build(residents=2000, seed=4, districts=1)
    sizes: collections.Counter[int] = collections.Counter()
    for hh in Household.objects.prefetch_related("members"):
        members = list(hh.members.all())
        assert 1 <= len(members) <= 6
        assert {m.home_id for m in members} == {hh.building_id}
        sizes[len(members)] += 1
    assert sizes[1] and sizes[2] and sizes[3] and sizes[6]


def test_about_three_percent_have_limited_mobility_more_of_them_elderly():
    gen = _People(random.Random(11), {})
    ages, flags = [], []
    for _i in range(20_000):
        for age, _sex, _s in gen.members(gen.household_size()):
            ages.append(age)
            flags.append(gen.limited_mobility(age))
    share = sum(flags) / len(flags)
    assert 0.02 <= share <= 0.04
    old = [f for a, f in zip(ages, flags, strict=True) if a >= 70]
    young = [f for a, f in zip(ages, flags, strict=True) if a < 60]
    assert sum(old) / len(old) > 4 * sum(young) / len(young)


def test_ages_follow_a_census_like_pyramid():
    gen = _People(random.Random(12), {})
    ages = [a for _i in range(20_000) for a, _s, _n in gen.members(gen.household_size())]
    children = sum(a < 15 for a in ages) / len(ages)
    elderly = sum(a >= 60 for a in ages) / len(ages)
    assert 0.12 <= children <= 0.22  # census 2020: 17.95 %
    assert 0.14 <= elderly <= 0.25  # census 2020: 18.70 %
    assert max(ages) <= 100


def test_key_groups_fit_the_ages():
    synthetic_city_build(residents=3000, seed=9, districts=1)
    today = dt.date(2025, 7, 1)
    for p in Person.objects.prefetch_related("key_groups"):
        assert p.birth_date is not None
        age = (today - p.birth_date).days // 365
        codes = {g.code for g in p.key_groups.all()}
        if "students" in codes:
            assert 5 <= age <= 23
        if "elderly_80" in codes:
            assert age >= 79
        if codes & {"medical_staff", "teachers", "drivers", "delivery"}:
            assert 17 <= age <= 61
    through = Person.key_groups.through.objects
    assert through.filter(keygroup__code="students").count() > 200
    assert through.exclude(keygroup__code__in=["students", "elderly_80"]).count() > 50


def test_venues_of_every_kind_sit_in_buildings():
    synthetic_city_build(residents=5000, seed=6, districts=2)
    kinds = set(Venue.objects.values_list("category", flat=True))
    assert {"shop", "restaurant", "school", "hospital", "transport_hub", "clinic"} <= kinds
    for v in Venue.objects.select_related("building"):
        assert v.building.level == "building" and v.scope_path == v.building.path
        assert v.name and v.address.startswith("太原市")
    assert Venue.objects.filter(name="太原南站").exists()


def test_one_audit_row_records_the_run():
    synthetic_city_build(residents=100, seed=1, districts=1)
    rows = AuditEntry.objects.filter(action="synth.build")
    assert rows.count() == 1
    assert rows[0].changes["residents"] == [None, 100]
    assert rows[0].changes["seed"] == [None, 1]


def test_nodes_added_later_under_synthetic_nodes_get_fresh_paths():
    synthetic_city_build(residents=300, seed=1, districts=1)
    grid = Jurisdiction.objects.filter(level="grid").first()
    assert grid is not None
    existing = set(Jurisdiction.objects.values_list("path", flat=True))
    node = jurisdiction_build(parent=grid, level="building", name_zh="新楼", name_en="New")
    assert node.path not in existing and node.path.startswith(grid.path)
    district = jurisdiction_build(
        parent=Jurisdiction.objects.get(code="140100"), level="district", name_zh="新区"
    )
    assert district.path not in existing


def test_it_refuses_a_city_whose_districts_exist(city):
    with pytest.raises(Conflict) as exc:
        synthetic_city_build(residents=100, seed=1, districts=2)
    assert "districts" in exc.value.fields
    assert not Person.objects.exists()


def test_it_refuses_bad_sizes():
    with pytest.raises(ValidationFailed) as exc:
        synthetic_city_build(residents=0, seed=1)
    assert "residents" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        synthetic_city_build(residents=10, seed=1, districts=11)
    assert "districts" in exc.value.fields


def test_the_command_builds_and_reports(capsys):
    call_command("synth", "--residents", "250", "--seed", "3", "--districts", "2")
    out = capsys.readouterr().out
    assert "250 residents" in out
    assert Person.objects.count() == 250
    with pytest.raises(CommandError):
        call_command("synth", "--residents", "250", "--seed", "3", "--districts", "2")


def test_split_boxes_are_disjoint_and_inside():
    boxes = split_box((0.0, 0.0, 1.0, 2.0), 7)
    assert len(boxes) == 7
    for i, (w, s, e, n) in enumerate(boxes):
        assert 0 <= w < e <= 1 and 0 <= s < n <= 2
        for w2, s2, e2, n2 in boxes[i + 1 :]:
            assert e <= w2 or e2 <= w or n <= s2 or n2 <= s


def test_batch_encryption_and_hashes_match_core_crypto():
    import hashlib
    import hmac

    from fangkong.core.identity import make_prc_id
    from fangkong.core.synth import _IdMaker, encrypt_many, hmac_sha256

    values = ["14010519900307123X", "+8613800138000", "", "E1234567", "x" * 33]
    tokens = encrypt_many(values)
    assert [decrypt(t) for t in tokens] == values
    assert len(set(encrypt_many(["same", "same"]))) == 2  # random IVs
    for key in (b"short", b"k" * 64, b"long" * 40):
        mac = hmac_sha256(key)
        assert mac(b"doc:1") == hmac.digest(key, b"doc:1", hashlib.sha256)
    ids = _IdMaker("140105", lambda d: d)
    day = dt.date(1990, 3, 7)
    assert ids.make(day.toordinal(), 123) == make_prc_id("140105", day, 123)


def test_large_cities_rebuild_the_deferred_indexes(monkeypatch):
    from django.db import connection

    from fangkong.core import synth

    def index_names():
        with connection.cursor() as cur:
            return {
                name
                for name, c in connection.introspection.get_constraints(
                    cur, Person._meta.db_table
                ).items()
                if c.get("index") or c.get("unique")
            }

    before = index_names()
    monkeypatch.setattr(synth, "DEFER_INDEXES_FROM", 1)
    synthetic_city_build(residents=200, seed=1, districts=1)
    assert index_names() == before
    assert "core_person_unique_document" in before
