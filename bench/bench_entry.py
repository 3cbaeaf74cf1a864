"""Figures of issue 19 (entry control).

The station: one railway checkpoint of a district, its checkpoint officer, the
classification rules of entry's fixture and a risk-area list of Shanghai in
force (a high-risk district, a medium-risk district, a building named only).

(a) ``entry_station_peak``: a railway station at peak. 20,000 arrivals (quick:
    1,000) scanned one after the other through ``POST /api/v1/entry/arrivals``
    (the officer's session, the project's middleware and API edge): each a new
    person registered (document encrypted, keyed hash), classified against the
    lists and rules in force, its test series, hand-off, status fact and SMS
    written. The itineraries mix every category: high-risk (centralised
    quarantine), medium (home quarantine), the rest of the affected city
    (monitoring), another province (arrival test), none given (held for review).
    Figure: the p99 latency of the scans, target < 100 ms. Floor: the p99 of a
    bare authenticated ninja endpoint of the same API class, parsing the same
    body and answering a constant, called by the same client between the scans
    (so both see the same machine load). A second figure: the wall time of the
    20,000 against the hour they arrive in (target < 3,600 s).
(b) ``entry_reclassify``: 100,000 recent arrivals (quick: 10,000) of the last
    14 days, classified against version 1 of the list (bulk-inserted with their
    people), then version 2 is imported and put in force (``risk_list_publish``:
    the region's version 1 withdrawn, every recent arrival classified again, the
    changed ones' consequences: test series, hand-offs, facts, SMS; the facts'
    status reasons delivered after the commit). Version 2 adds the affected
    city's Minhang district as medium-risk: a tenth of the arrivals change
    category. Target < 30 s. Floor: the same rows read raw (one SELECT of the
    columns the classification reads, fetched in chunks).

Run: ``fangkong bench --only entry_station_peak --only entry_reclassify``
(``--quick`` for reduced sizes); on PostgreSQL with ``DATABASE_URL=...``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from typing import Any

from django.http import HttpRequest
from django.urls import include, path

from bench.runner import Context, Figure, benchmark
from fangkong.core.apiedge import FangkongAPI, session_auth
from fangkong.core.schema import Schema

LIST_V1 = (
    "admin_code,province,city,district,street,place,level\n"
    "310104,上海市,上海市,徐汇区,,,高风险区\n"
    "310115,上海市,上海市,浦东新区,,,中风险区\n"
    ",上海市,上海市,闵行区,,七宝镇明珠小区,high\n"
)
LIST_V2 = LIST_V1 + "310112,上海市,上海市,闵行区,,,中风险区\n"

# (share out of 20, place, code): the station's mix of origins
MIX = [
    (1, "上海市徐汇区", "310104"),  # high → centralised quarantine
    (2, "上海市浦东新区", "310115"),  # medium → home quarantine
    (2, "上海市闵行区", "310112"),  # rest of the affected city → monitoring (v2: medium)
    (1, "", ""),  # no itinerary → held for review
    (14, "北京市朝阳区", "110105"),  # elsewhere → arrival test
]
ORIGINS = [(place, code) for share, place, code in MIX for _ in range(share)]


# -- the floor: a bare authenticated endpoint of the same API class ---------------


class _FloorStop(Schema):
    place: str
    code: str = ""
    start: dt.date
    end: dt.date


class _FloorIn(Schema):
    checkpoint_id: int
    doc_type: str = "prc_id"
    doc_number: str
    name: str
    phone: str = ""
    origin: str = ""
    itinerary: list[dict[str, str]] = []
    transport: str = ""
    transport_number: str = ""


class _FloorOut(Schema):
    id: int
    category: str


floor_api = FangkongAPI(urls_namespace="bench_entry_floor", auth=[session_auth], docs_url=None)


@floor_api.post("/arrivals", response=_FloorOut)
def _floor(request: HttpRequest, payload: _FloorIn) -> dict[str, Any]:
    return {"id": payload.checkpoint_id, "category": "arrival_test"}


urlpatterns = [path("bench/entry/", floor_api.urls), path("", include("fangkong.urls"))]
FLOOR_URL = "/bench/entry/arrivals"
API_URL = "/api/v1/entry/arrivals"


# -- the station --------------------------------------------------------------------


def _station(ctx: Context) -> dict[str, Any]:
    if "entry_station" in ctx.state:
        return dict(ctx.state["entry_station"])
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core.models import Jurisdiction, Role, StaffProfile, path_segment
    from fangkong.entry import services

    with transaction.atomic():
        province = Jurisdiction.objects.create(
            level="province", name_zh="入境基准省", code="E14000", path=path_segment(93), depth=1
        )
        city = Jurisdiction.objects.create(
            parent=province,
            level="city",
            name_zh="入境基准市",
            code="E14010",
            path=province.path + path_segment(0),
            depth=2,
            next_child_index=1,
        )
        district = Jurisdiction.objects.create(
            parent=city,
            level="district",
            name_zh="车站区",
            path=city.path + path_segment(0),
            depth=3,
        )
        users = {}
        for username, node, role in (
            ("bench_entry_commander", city, "city_commander"),
            ("bench_entry_officer", district, "checkpoint_officer"),
        ):
            user = get_user_model().objects.create_user(username=username)
            profile = StaffProfile.objects.create(user=user, jurisdiction=node, display_name=role)
            profile.roles.set(Role.objects.filter(code=role))
            users[role] = user
    commander = users["city_commander"]
    checkpoint = services.checkpoint_create(
        actor=commander,
        data=services.CheckpointData(
            name_zh="基准火车站",
            name_en="Bench railway station",
            kind="rail",
            jurisdiction_id=district.pk,
            throughput_per_hour=20_000,
        ),
    )
    risk_list = services.risk_list_import(
        actor=commander,
        meta=_meta(),
        data=LIST_V1.encode(),
        filename="shanghai-v1.csv",
    )
    services.risk_list_publish(actor=commander, list_id=risk_list.pk)
    state = {
        "district_id": district.pk,
        "district_path": district.path,
        "checkpoint_id": checkpoint.pk,
        "commander_id": commander.pk,
        "officer_id": users["checkpoint_officer"].pk,
        "today": timezone.localdate().isoformat(),
    }
    ctx.state["entry_station"] = state
    return dict(state)


def _meta() -> Any:
    from django.utils import timezone

    from fangkong.entry import services

    today = timezone.localdate()
    return services.ListMeta(
        region_code="310000",
        region_name="上海市",
        source="上海发布",
        published_at=timezone.now() - dt.timedelta(minutes=5),
        effective_from=today - dt.timedelta(days=20),
    )


def _itinerary(i: int, today: dt.date, lookback: int) -> list[dict[str, str]]:
    place, code = ORIGINS[i % len(ORIGINS)]
    if not place:
        return []
    return [
        {
            "place": place,
            "code": code,
            "from": (today - dt.timedelta(days=lookback + 1)).isoformat(),
            "to": today.isoformat(),
        }
    ]


def _document(i: int) -> str:
    from fangkong.core.identity import make_prc_id

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i // 1000)
    return make_prc_id("140105", birth, i % 1000)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


@benchmark("entry_station_peak")
def bench_station_peak(ctx: Context) -> list[Figure]:
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from fangkong.entry.models import Arrival
    from fangkong.entry.services.classify import rules_in_force

    state = _station(ctx)
    n = ctx.size(20_000, 1_000)
    today = dt.date.fromisoformat(state["today"])
    lookback = rules_in_force(today).lookback_days
    officer = get_user_model().objects.get(pk=state["officer_id"])
    client = Client(enforce_csrf_checks=False)
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")

    def body(i: int) -> str:
        return json.dumps(
            {
                "checkpoint_id": state["checkpoint_id"],
                "doc_number": _document(i),
                "name": f"旅客{i}",
                "phone": f"139{i:08d}",
                "origin": ORIGINS[i % len(ORIGINS)][0] or "外地",
                "itinerary": _itinerary(i, today, lookback),
                "transport": "train",
                "transport_number": f"G{i % 90 + 1}",
            },
            ensure_ascii=False,
        )

    scans: list[float] = []
    floors: list[float] = []
    statuses: dict[int, int] = {}
    with override_settings(ROOT_URLCONF=__name__):
        for i in range(-20, 0):  # warm up: imports, first queries (not counted)
            client.post(FLOOR_URL, body(10_000_000 + i), content_type="application/json")
        started = time.perf_counter()
        for i in range(n):
            data = body(i)
            t0 = time.perf_counter()
            r = client.post(API_URL, data, content_type="application/json")
            t1 = time.perf_counter()
            f = client.post(FLOOR_URL, data, content_type="application/json")
            t2 = time.perf_counter()
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert f.status_code == 200, f.content
            scans.append(t1 - t0)
            floors.append(t2 - t1)
        wall = time.perf_counter() - started - sum(floors)
    counts: dict[str, int] = {}
    for category in Arrival.objects.filter(checkpoint_id=state["checkpoint_id"]).values_list(
        "category", flat=True
    ):
        counts[category] = counts.get(category, 0) + 1
    p99, p50 = _pct(scans, 0.99) * 1000, statistics.median(scans) * 1000
    f99 = _pct(floors, 0.99) * 1000
    ctx.say(
        f"  {n:,} scans in {wall:.1f} s: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(floor p50 {statistics.median(floors) * 1000:.1f} ms, p99 {f99:.1f} ms); "
        f"answers {statuses}; categories {counts}"
    )
    ok = statuses.get(201, 0) == n
    mix = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    return [
        Figure(
            f"arrival scan (register + classify) p99, {n:,} at a station",
            _pct(scans, 0.99) * 1000 if ok else None,
            "ms",
            floor=f99,
            target=100.0,
            note=f"p50 {p50:.1f} ms; answers {statuses}; {mix}; floor: a bare authenticated "
            "ninja endpoint parsing the same body, called between the scans",
        ),
        Figure(
            f"{n:,} arrivals registered and classified one after another",
            wall if ok else None,
            "s",
            floor=sum(floors),
            target=3600.0 * n / 20_000,
            note="an hour's peak at the station is 20,000 (quick: the same rate)",
        ),
    ]


# -- re-classification --------------------------------------------------------------


def _recent_arrivals(ctx: Context, state: dict[str, Any], n: int) -> int:
    """n arrivals of the rules' look-back days with their people, classified against the
    lists in force (as the scans would have left them), bulk-inserted."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core.models import Person
    from fangkong.entry.models import Arrival
    from fangkong.entry.services.classify import (
        apply,
        decide,
        lists_in_force,
        rules_in_force,
    )

    today = dt.date.fromisoformat(state["today"])
    lists, rules = lists_in_force(today), rules_in_force(today)
    days = rules.lookback_days + 1  # the re-classification's window (the rules' look-back)
    now = timezone.now()
    t0 = time.perf_counter()
    made = 0
    with transaction.atomic():
        first = int(Person.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        for start in range(0, n, 5000):
            size = min(5000, n - start)
            people = Person.objects.bulk_create(
                [
                    Person(
                        doc_type="other",
                        doc_number_encrypted="-",
                        doc_hash=f"ebench{first + start + i:09d}",
                        doc_masked="E*****",
                        name=f"近期旅客{start + i}",
                        scope_path=state["district_path"],
                        language="en" if i % 10 == 0 else "zh-hans",
                    )
                    for i in range(size)
                ]
            )
            rows = []
            for i, person in enumerate(people):
                k = start + i
                day = today - dt.timedelta(days=k % days)
                arrival = Arrival(
                    person_id=person.pk,
                    checkpoint_id=state["checkpoint_id"],
                    scope_path=state["district_path"],
                    source=Arrival.Source.ON_SITE,
                    state=Arrival.State.ARRIVED,
                    expected_on=day,
                    arrived_at=now - dt.timedelta(days=k % days),
                    origin=ORIGINS[k % len(ORIGINS)][0] or "外地",
                    itinerary=_itinerary(k, day, rules.lookback_days),
                    transport="train",
                )
                apply(arrival, decide(arrival, lists=lists, rules=rules), rules)
                rows.append(arrival)
            Arrival.objects.bulk_create(rows, batch_size=2500)
            made += size
    ctx.say(f"  {made:,} recent arrivals with their people in {time.perf_counter() - t0:.1f} s")
    return made


def _floor_read(since: dt.date, until: dt.date) -> tuple[float, int]:
    from django.db import connection

    rows = 0
    started = time.perf_counter()
    with connection.chunked_cursor() as cur:
        cur.execute(
            "SELECT id, person_id, home_id, scope_path, state, traveller_class, expected_on, "
            "itinerary, category, rule_set_id, list_versions, findings FROM entry_arrival "
            "WHERE expected_on >= %s AND expected_on <= %s AND state <> 'closed' ORDER BY id",
            [since, until],
        )
        while True:
            batch = cur.fetchmany(2000)
            if not batch:
                break
            for row in batch:  # the JSON columns decoded, as the ORM must
                json.loads(row[7]) if isinstance(row[7], str) else row[7]
                json.loads(row[11]) if isinstance(row[11], str) else row[11]
            rows += len(batch)
    return time.perf_counter() - started, rows


@benchmark("entry_reclassify")
def bench_reclassify(ctx: Context) -> list[Figure]:
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from fangkong.core.models import Fact
    from fangkong.entry import services
    from fangkong.entry.models import Arrival
    from fangkong.entry.services.classify import rules_in_force

    state = _station(ctx)
    n = ctx.size(100_000, 10_000)
    today = dt.date.fromisoformat(state["today"])
    _recent_arrivals(ctx, state, n)
    since = today - dt.timedelta(days=rules_in_force(today).lookback_days)
    recent = Arrival.objects.filter(expected_on__gte=since, expected_on__lte=today)
    before = dict(recent.values_list("category").annotate(n=Count("id")).order_by())
    commander = get_user_model().objects.get(pk=state["commander_id"])
    floor, read = _floor_read(since, today)
    v2 = services.risk_list_import(
        actor=commander, meta=_meta(), data=LIST_V2.encode(), filename="shanghai-v2.csv"
    )
    facts_before = Fact.objects.filter(name="arrivals.classified").count()
    started = time.perf_counter()
    result = services.risk_list_publish(actor=commander, list_id=v2.pk)
    seconds = time.perf_counter() - started
    facts = Fact.objects.filter(name="arrivals.classified").count() - facts_before
    after = dict(recent.values_list("category").annotate(n=Count("id")).order_by())
    ctx.say(
        f"  re-classified {result['checked']:,} ({result['changed']:,} changed, "
        f"{facts:,} facts of a chunk each) "
        f"in {seconds:.2f} s; floor (raw read of {read:,} rows) {floor:.2f} s; "
        f"before {before}; after {after}"
    )
    return [
        Figure(
            f"re-classifying {result['checked']:,} recent arrivals after a new list",
            seconds,
            "s",
            floor=floor,
            target=30.0,
            note=f"{result['changed']:,} changed category (consequences and facts included); "
            f"floor: the {read:,} rows read raw",
        )
    ]
