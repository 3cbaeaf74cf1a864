"""Figures of issue 3 for venue check-ins and co-presence matching.

The data: 14 days of check-ins of a city of 2,000,000 people at 50,000 venues,
10,000,000 check-ins (quick: 200,000 people, 1,000,000 check-ins). People are
minimal rows inserted directly (no encryption: benchmark database only); the
check-in table is loaded without its indexes, which are built afterwards.

(a) ``checkin_match_one``: matching one case with 20 venue stops through
    ``match_case`` (median over many cases); floor = the same join, the union of
    the overlaps and the INSERT of the same match rows into an empty copy of the
    match table, committed, in one statement on a raw cursor (PostgreSQL; SQLite:
    the service's join and the INSERT of its rows), measured on the same cases.
    Targets: < 50 ms, ratio <= 2 (issue 17).
(b) ``checkin_match_batch``: ``match_cases`` for 1,000 cases of 20 stops;
    floor = the bare SQL for all their windows. Target: < 5 s (PostgreSQL).
(c) ``checkin_ingest``: ``checkins_ingest`` of a day's log (1,000,000 rows; quick
    100,000) given as the dicts a CSV reader yields; floor = COPY (PostgreSQL) or
    executemany in one transaction (SQLite) of the same, already resolved rows
    into a copy of the table (same indexes, no foreign keys). Target: >= 50 % of
    the floor's rate.
(d) ``checkin_api``: ``POST /api/v1/checkins`` (self scans) through gunicorn on
    127.0.0.1, driven by a load generator in a separate process (asyncio, raw
    HTTP/1.1, bounded in time): requests/s and p99, in rounds alternating with two
    floors on the same server: a bare Django view making the same service call
    (no ninja) and an empty view (Django and the middleware alone), and with the
    same API on a second server without the fast paths (``FANGKONG_FASTPATHS=0``:
    plain Django); best and median round (the machine is shared); then the API
    with the operator's opt-in FANGKONG_CHECKIN_ASYNC_COMMIT. PostgreSQL only.
    Target: >= 1,000 req/s.

Run: ``fangkong bench --only checkin_match_one ...`` (``--quick`` for reduced sizes).
The servers and the load generator are ``bench.runner``'s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.runner import (
    Context,
    Figure,
    Request,
    Server,
    benchmark,
    copy_rows,
    median_rps,
    people_load,
    post,
    run_line,
    server_env,
)
from bench.runner import best as best_run

SEED = 1006
BASE_DIR = Path(__file__).resolve().parent.parent
STOPS_PER_CASE = 20


# --- The data --------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _buildings() -> list[tuple[int, str]]:
    """Up to 2,000 buildings to put venues in: the synthetic city's, or a small tree."""
    from fangkong.core.models import Jurisdiction
    from fangkong.core.services import jurisdiction_build

    found = list(Jurisdiction.objects.filter(level="building").values_list("id", "path")[:2000])
    if found:
        return found
    from django.db import transaction

    with transaction.atomic():
        return _small_tree(jurisdiction_build)


def _small_tree(jurisdiction_build: Any) -> list[tuple[int, str]]:
    node = None
    for level, name in (
        ("province", "基准省"),
        ("city", "基准市"),
        ("district", "基准区"),
        ("subdistrict", "基准街道"),
        ("community", "基准社区"),
        ("grid", "基准网格"),
    ):
        node = jurisdiction_build(parent=node, level=level, name_zh=name)
    out = []
    for i in range(200):
        b = jurisdiction_build(parent=node, level="building", name_zh=f"{i + 1}号楼")
        out.append((b.pk, b.path))
    return out


def _index_ddl(table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's non-unique secondary indexes."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT LIKE '%%pkey'",
                [table],
            )
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
        return [(name, ddl) for name, ddl in cur.fetchall()]


def ensure_checkins(ctx: Context) -> dict[str, Any]:
    """People, venues and 14 days of check-ins (built once per run)."""
    if "checkins" in ctx.state:
        return dict(ctx.state["checkins"])
    from django.db import connection
    from django.utils import timezone

    from fangkong.investigation.models import CheckIn, Venue

    rng = random.Random(SEED)
    n_people = ctx.size(2_000_000, 200_000)
    n_venues = 50_000
    n_checkins = ctx.size(10_000_000, 1_000_000)
    end = _now() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=14)
    started = time.perf_counter()

    buildings = _buildings()
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    ctx.say(f"  {n_people:,} people (minimal rows, no encryption)")
    first_pid = people_load(
        n_people, tag="bench", place=lambda i: (None, buildings[i % len(buildings)][1])
    )
    ctx.say(f"  {n_venues:,} venues")
    first_vid = int(Venue.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    categories = [c.value for c in Venue.Category]
    copy_rows(
        Venue._meta.db_table,
        [
            "id",
            "created_at",
            "updated_at",
            "name",
            "name_en",
            "category",
            "address",
            "building_id",
            "scope_path",
            "capacity",
        ],
        (
            (
                first_vid + i,
                created,
                created,
                f"场所{i}",
                "",
                categories[i % len(categories)],
                "",
                buildings[i % len(buildings)][0],
                buildings[i % len(buildings)][1],
                50,
            )
            for i in range(n_venues)
        ),
    )
    _reset_sequences()

    ctx.say(f"  {n_checkins:,} check-ins over 14 days (indexes built afterwards)")
    table = CheckIn._meta.db_table
    indexes = _index_ddl(table)
    with connection.cursor() as cur:
        for name, _ddl in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    # One timestamp string per minute of the period: rows are cheap to make.
    minutes = 14 * 24 * 60 + 24 * 60
    if connection.vendor == "postgresql":
        stamps = [(start + dt.timedelta(minutes=m)).isoformat() for m in range(minutes)]
    else:
        stamps = [
            (start + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S") for m in range(minutes)
        ]

    def rows() -> Any:
        r = rng.random
        for _i in range(n_checkins):
            day = int(r() * 14)
            # Visits spread over 15 hours of each day.
            minute = day * 1440 + int(r() * 15 * 60)
            scans = int(r() * 20) if r() < 0.3 else 0
            left = stamps[minute + 10 + int(r() * 110)] if r() < 0.3 else None
            yield (
                first_vid + int(r() * n_venues),
                first_pid + int(r() * n_people),
                stamps[minute],
                stamps[minute + scans],
                left,
                "scan",
                "",
            )

    t0 = time.perf_counter()
    copy_rows(
        table,
        ["venue_id", "person_id", "time", "last_scan_at", "left_at", "source", "external_ref"],
        rows(),
        fk_off=True,
    )
    ctx.say(f"    loaded in {time.perf_counter() - t0:.0f} s; building indexes")
    with connection.cursor() as cur:
        for _name, ddl in indexes:
            cur.execute(ddl)
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA analysis_limit = 1000")
        cur.execute(f"ANALYZE {table}")
    state = {
        "people": n_people,
        "first_pid": first_pid,
        "venues": n_venues,
        "first_vid": first_vid,
        "checkins": n_checkins,
        "start": start,
        "end": end,
        "seconds": time.perf_counter() - started,
    }
    ctx.say(f"  data ready in {state['seconds']:.0f} s")
    ctx.state["checkins"] = state
    return dict(state)


def _reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from fangkong.core.models import Person
    from fangkong.investigation.models import Venue

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person, Venue]):
            cur.execute(sql)


def _actor() -> Any:
    """A city commander at the root of the benchmark's tree (a real staff account:
    profile, roles, scope; not a superuser without a profile)."""
    from django.contrib.auth import get_user_model

    from fangkong.core.models import Jurisdiction, Role, StaffProfile

    User = get_user_model()
    user = User.objects.filter(username="bench_matcher").first()
    if user is None:
        user = User.objects.create_user(username="bench_matcher", password=None)
        root = Jurisdiction.objects.filter(parent__isnull=True).order_by("id").first()
        assert root is not None
        profile = StaffProfile.objects.create(user=user, jurisdiction=root)
        profile.roles.set(Role.objects.filter(code="city_commander"))
    return user


def _make_cases(ctx: Context, data: dict[str, Any], count: int, tag: str) -> list[int]:
    """Cases with 20 venue stops each in their infectious period (last days of data)."""
    from fangkong.core.models import Person
    from fangkong.investigation.models import Case, Disease, TrajectoryStop
    from fangkong.investigation.services.rules import rules_in_force

    rng = random.Random(f"{SEED}-{tag}")
    disease = Disease.objects.get(code="covid19")
    report = data["end"].date()
    rules = rules_in_force(disease, report)
    pids = [data["first_pid"] + rng.randrange(data["people"]) for _i in range(count)]
    paths = dict(Person.objects.filter(pk__in=pids).values_list("pk", "scope_path"))
    cases = Case.objects.bulk_create(
        [
            Case(
                number=f"BENCH-{tag}-{i:05d}",
                person_id=pid,
                disease=disease,
                rules=rules,
                classification="confirmed",
                onset_date=report - dt.timedelta(days=2),
                report_date=report,
                found_by="screening",
                scope_path=paths[pid],
            )
            for i, pid in enumerate(pids)
        ]
    )
    if cases[0].pk is None:  # SQLite before returning ids: read them back
        cases = list(Case.objects.filter(number__startswith=f"BENCH-{tag}-").order_by("id"))
    stops = []
    base = data["end"] - dt.timedelta(days=4)
    for case in cases:
        for _s in range(STOPS_PER_CASE):
            begin = base + dt.timedelta(minutes=rng.randrange(4 * 1440 - 180))
            stops.append(
                TrajectoryStop(
                    case=case,
                    kind="venue",
                    venue_id=data["first_vid"] + rng.randrange(data["venues"]),
                    start=begin,
                    end=begin + dt.timedelta(minutes=30 + rng.randrange(90)),
                )
            )
    TrajectoryStop.objects.bulk_create(stops, batch_size=5000)
    return [c.pk for c in cases]


def _floor_seconds(case_ids: list[int]) -> tuple[float, int]:
    """The bare SQL join of the cases' stop windows with the visits overlapping
    them, on a raw cursor: (seconds, rows). PostgreSQL: the join part of the
    service's statement (``venue_join_sql``), without the union of overlaps,
    the insert and the marks; SQLite: the join the service sends (``stops_join_sql``)."""
    from django.db import connection

    from fangkong.investigation.models import Case
    from fangkong.investigation.services.matching import _pads, stops_join_sql, venue_join_sql

    by_id = {c.pk: c for c in Case.objects.select_related("rules").filter(pk__in=case_ids)}
    cases = [by_id[i] for i in case_ids]
    rows = 0
    pads = _pads(cases)
    chunks = [cases[i : i + 250] for i in range(0, len(cases), 250)]
    if connection.vendor == "postgresql":
        queries = [venue_join_sql(chunk) for chunk in chunks]
    else:
        queries = [stops_join_sql([c.pk for c in chunk], pads) for chunk in chunks]
    started = time.perf_counter()
    with connection.cursor() as cur:
        for sql, params in queries:
            cur.execute(sql, params)
            rows += len(cur.fetchall())
    return time.perf_counter() - started, rows


FLOOR_TABLE = "bench_match_floor"


def _floor_table() -> None:
    """An empty copy of the match table with its indexes and unique constraint (on
    PostgreSQL without its foreign keys), for the floor's INSERT; emptied before
    each use."""
    from django.db import connection

    from fangkong.investigation.models import ExposureMatch

    src = ExposureMatch._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (LIKE {src} INCLUDING ALL)")
            cur.execute(f"TRUNCATE {FLOOR_TABLE}")
            return
        cur.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [src])
        ddl = cur.fetchone()[0]
        # The same columns, unique constraint and checks; its indexes below.
        ddl = ddl.replace(f'"{src}"', f'"{FLOOR_TABLE}"', 1).replace(
            'CONSTRAINT "inv_match_unique', 'CONSTRAINT "floor_match_unique'
        )
        cur.execute(ddl)
    for name, index in _index_ddl(src):
        with connection.cursor() as cur:
            cur.execute(
                index.replace(f'"{name}"', f'"floor_{name}"').replace(f'"{src}"', FLOOR_TABLE)
            )


def _match_floor_seconds(case_id: int) -> tuple[float, int]:
    """The co-presence match's floor for one case: the same join, the union of the
    overlaps, the INSERT of the same match rows (into an empty copy of the match
    table) and the commit, in one statement in autocommit (PostgreSQL); on SQLite
    the service's join and the INSERT of the rows the service stored, committed."""
    from django.db import connection, transaction

    from fangkong.investigation.models import Case, ExposureMatch
    from fangkong.investigation.services.matching import (
        _INSERT_COLUMNS,
        _pads,
        stops_join_sql,
        venue_match_floor_sql,
    )

    case = Case.objects.select_related("rules").get(pk=case_id)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {FLOOR_TABLE}")
    if connection.vendor == "postgresql":
        sql, params = venue_match_floor_sql([case], FLOOR_TABLE)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.rowcount
        return time.perf_counter() - started, rows
    columns = [c.strip() for c in _INSERT_COLUMNS.split(",")]
    stored = list(ExposureMatch.objects.filter(case_id=case_id).values_list(*columns))
    sql, params = stops_join_sql([case_id], _pads([case]))
    marks = ", ".join(["%s"] * len(columns))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        cur.fetchall()
        cur.executemany(f"INSERT INTO {FLOOR_TABLE} ({_INSERT_COLUMNS}) VALUES ({marks})", stored)
    return time.perf_counter() - started, len(stored)


@benchmark("checkin_match_one")
def bench_match_one(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.investigation.models import ExposureMatch
    from fangkong.investigation.services.matching import match_case

    data = ensure_checkins(ctx)
    actor = _actor()
    runs = ctx.size(40, 20)
    case_ids = _make_cases(ctx, data, runs + 3, "one")
    _floor_table()
    service, floor, found = [], [], []
    for i, case_id in enumerate(case_ids):
        f1 = _match_floor_seconds(case_id)[0] if connection.vendor == "postgresql" else None
        t0 = time.perf_counter()
        match_case(actor=actor, case_id=case_id)
        s = time.perf_counter() - t0
        f2, rows = _match_floor_seconds(case_id)
        if i >= 3:  # the first ones warm up
            service.append(s)
            floor.append(min(f2, f1) if f1 is not None else f2)
            found.append(rows)
    matches = ExposureMatch.objects.filter(case_id__in=case_ids).count()
    ms = statistics.median(service) * 1000
    floor_ms = statistics.median(floor) * 1000
    ctx.say(
        f"  {runs} cases: service {ms:.1f} ms, floor {floor_ms:.1f} ms; "
        f"{statistics.median(found):.0f} match rows, {matches / len(case_ids):.0f} matches/case"
    )
    return [
        Figure(
            f"match one case ({STOPS_PER_CASE} stops, {data['checkins']:,} check-ins)",
            ms,
            "ms",
            floor=floor_ms,
            target=50.0,
            note=f"median of {runs} cases; floor: the join, the INSERT of its match rows "
            "and the commit in one statement; ratio target <= 2",
        ),
        Figure("match one case: service / floor", ms / floor_ms, "x", target=2.0),
    ]


@benchmark("checkin_match_batch")
def bench_match_batch(ctx: Context) -> list[Figure]:
    from fangkong.investigation.services.matching import match_cases

    data = ensure_checkins(ctx)
    count = 1000
    case_ids = _make_cases(ctx, data, count, "batch")
    floor, rows = _floor_seconds(case_ids)
    t0 = time.perf_counter()
    result = match_cases(case_ids)
    seconds = time.perf_counter() - t0
    ctx.say(
        f"  {count} cases, {result.stops_examined:,} stops: {seconds:.2f} s "
        f"(floor {floor:.2f} s, {rows:,} rows), {result.created:,} matches"
    )
    from django.db import connection

    return [
        Figure(
            f"match {count:,} cases at once ({STOPS_PER_CASE} stops each)",
            seconds,
            "s",
            floor=floor,
            target=5.0 if connection.vendor == "postgresql" else None,
            note="target on PostgreSQL",
        )
    ]


@benchmark("checkin_ingest")
def bench_ingest(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.investigation.models import CheckIn
    from fangkong.investigation.services.checkins import checkins_ingest

    data = ensure_checkins(ctx)
    n = ctx.size(1_000_000, 100_000)
    rng = random.Random(f"{SEED}-ingest")
    # A day's log of an external scanning system: the hours after the data ends.
    base = data["end"]
    rows = []
    for i in range(n):
        t = base + dt.timedelta(seconds=rng.randrange(20 * 3600))
        rows.append(
            {
                "venue": str(data["first_vid"] + rng.randrange(data["venues"])),
                "person_id": str(data["first_pid"] + rng.randrange(data["people"])),
                "time": t.isoformat(),
                "external_ref": f"s{i}",
            }
        )
    ctx.say(f"  ingesting {n:,} rows through checkins_ingest")
    t0 = time.perf_counter()
    report = checkins_ingest(rows, source_name="bench")
    seconds = time.perf_counter() - t0
    ctx.say(
        f"    {seconds:.1f} s: {report.inserted:,} inserted, {report.duplicates:,} merged, "
        f"{len(report.errors):,} errors"
    )
    # Floor: the same rows, already resolved, bulk loaded into the same table
    # after the service's rows are deleted again (so both meet the same indexes,
    # constraints and table size; the floor runs second, with a warm cache).
    src = CheckIn._meta.db_table
    CheckIn.objects.filter(source="import", external_ref__startswith="s").delete()
    adapt = connection.ops.adapt_datetimefield_value
    resolved = [
        (
            int(r["venue"]),
            int(r["person_id"]),
            adapt(dt.datetime.fromisoformat(r["time"])),
            adapt(dt.datetime.fromisoformat(r["time"])),
            None,
            "import",
            r["external_ref"],
        )
        for r in rows
    ]
    t0 = time.perf_counter()
    copy_rows(
        src,
        ["venue_id", "person_id", "time", "last_scan_at", "left_at", "source", "external_ref"],
        resolved,
    )
    floor = time.perf_counter() - t0
    rate, floor_rate = n / seconds, n / floor
    how = "COPY" if connection.vendor == "postgresql" else "executemany"
    return [
        Figure(
            f"ingest {n:,} check-ins",
            rate,
            "rows/s",
            floor=floor_rate,
            target=floor_rate * 0.5,
            higher_is_better=True,
            note=f"floor: {how} of the resolved rows into the same table; target 50 % of it",
        )
    ]


# --- The check-in API through gunicorn ------------------------------------------------


# Floors served by the same gunicorn, through the same middleware: a bare Django
# view doing the same work (JSON body, the same check-in service call, a JSON
# answer: no ninja routing, schemas or authentication chain), and an empty view
# (what Django and the middleware stack cost alone). The server loads them by
# pointing ROOT_URLCONF at this module (``floor_wsgi()``); the real URLs follow.
CHECKIN_PATH = "/api/v1/checkins"
FLOOR_PATH = "/bench/floor/checkins"
EMPTY_PATH = "/bench/floor/empty"


def _floor_checkin(request: Any) -> Any:
    from django.http import JsonResponse

    from fangkong.core.errors import ApplicationError
    from fangkong.investigation.services.checkins import checkin_scan

    body = json.loads(request.body)
    try:
        result = checkin_scan(venue_token=body["venue_token"], person_token=body["person_token"])
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(
        {
            "venue_id": result.venue_id,
            "venue_name": result.venue_name,
            "time": result.time.isoformat(),
            "visits": [{"id": v.id, "extended": v.extended} for v in result.visits],
        },
        status=201,
    )


def _floor_empty(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"ok": True}, status=201)


def __getattr__(name: str) -> Any:
    # ``urlpatterns`` built on first use (only the floor server imports Django's URLs).
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path(FLOOR_PATH.lstrip("/"), csrf_exempt(_floor_checkin)),
        path(EMPTY_PATH.lstrip("/"), csrf_exempt(_floor_empty)),
        path("", include("fangkong.urls")),
    ]


def floor_wsgi() -> Any:
    """gunicorn ``bench.bench_investigation_checkins:floor_wsgi()``: the application
    with the floor views added in front of its own URLs."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()  # apps loaded before any model is imported

    from fangkong.core.fastpaths import wrap

    settings.ROOT_URLCONF = "bench.bench_investigation_checkins"
    return wrap(application)  # as fangkong.wsgi serves it


def _bodies(bodies: list[str]) -> list[Request]:
    return [post(CHECKIN_PATH, b) for b in bodies]


def _floor_bodies(bodies: list[str], path: str) -> list[Request]:
    return [post(path, b) for b in bodies]


@benchmark("checkin_api")
def bench_api(ctx: Context) -> list[Figure]:
    """Rounds of the API, the bare-view floor and the empty view, alternating on one
    server (the machine is shared: best and median of the rounds); then the API
    again on a server with the operator's opt-in FANGKONG_CHECKIN_ASYNC_COMMIT."""
    from django.db import connection

    from fangkong.core import signing
    from fangkong.investigation.models import CheckIn, VenueCode

    if connection.vendor != "postgresql":
        ctx.say("  skipped: the API figure is measured on PostgreSQL")
        return []
    data = ensure_checkins(ctx)
    rng = random.Random(f"{SEED}-api")
    rounds = ctx.size(3, 2)
    seconds = ctx.size(15, 4)
    per_run = ctx.size(40_000, 6_000)  # more than a run can send in its time
    venue_ids = sorted({data["first_vid"] + rng.randrange(data["venues"]) for _i in range(5000)})
    version = signing.current_key_version()
    VenueCode.objects.bulk_create(
        [VenueCode(venue_id=v, serial=1, key_version=version) for v in venue_ids],
        ignore_conflicts=True,
    )
    venue_tokens = [signing.sign("v", {"v": v, "s": 1}) for v in venue_ids]

    def bodies(n: int) -> list[str]:
        # Each run its own people: new visits, not extensions of earlier ones.
        return [
            json.dumps(
                {
                    "venue_token": rng.choice(venue_tokens),
                    "person_token": signing.person_token(
                        data["first_pid"] + rng.randrange(data["people"])
                    ),
                }
            )
            for _i in range(n)
        ]

    before = CheckIn.objects.count()
    env = server_env()
    keys = ("api", "plain", "floor", "empty")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in (*keys, "async")}
    cpu: dict[str, float] = {}
    app = "bench.bench_investigation_checkins:floor_wsgi()"
    # Two servers, alike but for the fast paths in front of Django (off: the API is
    # ninja behind the whole middleware stack), loaded in turn.
    with (
        Server(app, env=env) as fast,
        Server(app, env={**env, "FANGKONG_FASTPATHS": "0"}) as plain,
    ):
        for server in (fast, plain):  # warm-up: every worker loaded
            server.load(_bodies(bodies(400)), seconds=5)
        fast.load(_floor_bodies(bodies(400), FLOOR_PATH), seconds=5)
        for r in range(rounds):
            for key, server, path in (
                ("api", fast, CHECKIN_PATH),
                ("plain", plain, CHECKIN_PATH),
                ("floor", fast, FLOOR_PATH),
                ("empty", fast, EMPTY_PATH),
            ):
                result = server.load(_floor_bodies(bodies(per_run), path), seconds=seconds)
                runs[key].append(result)
                ctx.say(run_line(f"round {r + 1} {key:5}", result))
        shape = fast.shape
    # The operator's opt-in: live scans committed without waiting for the WAL flush.
    with Server(app, env={**env, "FANGKONG_CHECKIN_ASYNC_COMMIT": "1"}) as server:
        server.load(_bodies(bodies(400)), seconds=5)
        for r in range(rounds):
            result = server.load(_bodies(bodies(per_run)), seconds=seconds)
            runs["async"].append(result)
            ctx.say(run_line(f"round {r + 1} async", result))
    stored = CheckIn.objects.count() - before
    ctx.say(f"  {stored:,} rows stored; load average {os.getloadavg()[0]:.1f}")

    def best(key: str) -> dict[str, Any]:
        return best_run(runs[key])

    def median(key: str) -> float:
        return median_rps(runs[key])

    # Ratios: within each round (the same moment of the shared machine).
    ratios = [
        f["rps"] / a["rps"] for a, f in zip(runs["api"], runs["floor"], strict=True) if a["rps"]
    ]
    for key in keys:
        cpu[key] = statistics.median(x["server_cpu_ms"] for x in runs[key])
    note = f"{shape}, 32 connections, {rounds} rounds of {seconds} s"
    return [
        Figure(
            "check-in API (self scans), best round",
            best("api")["rps"],
            "req/s",
            floor=best("floor")["rps"],
            target=1000.0,
            higher_is_better=True,
            note=f"{note}; floor: bare Django view, same service call, same server",
        ),
        Figure(
            "check-in API (self scans), median round",
            median("api"),
            "req/s",
            floor=median("floor"),
            target=1000.0,
            higher_is_better=True,
            note=f"per-round floor/API ratios {', '.join(f'{x:.2f}' for x in ratios)}; "
            f"empty view (Django + middleware only) median {median('empty'):.0f}/s",
        ),
        Figure(
            "check-in API p99 (best round)",
            best("api")["p99_ms"],
            "ms",
            floor=best("floor")["p99_ms"],
            note="floor: the bare view's p99 in its best round",
        ),
        Figure(
            "check-in API server CPU per request",
            cpu["api"],
            "ms",
            floor=cpu["floor"],
            note=f"gunicorn processes only (median of rounds); empty view {cpu['empty']:.2f} ms",
        ),
        Figure(
            "check-in API without its fast path (plain Django), best round",
            best("plain")["rps"],
            "req/s",
            floor=best("floor")["rps"],
            target=1000.0,
            higher_is_better=True,
            note=f"FANGKONG_FASTPATHS=0: ninja behind the whole middleware stack; median "
            f"{median('plain'):.0f}/s; floor: bare Django view, same service call",
        ),
        Figure(
            "check-in API without its fast path, server CPU per request",
            cpu["plain"],
            "ms",
            floor=cpu["floor"],
            note=f"with the fast path {cpu['api']:.2f} ms; empty view {cpu['empty']:.2f} ms",
        ),
        Figure(
            "check-in API with FANGKONG_CHECKIN_ASYNC_COMMIT=1 (opt-in), best round",
            best("async")["rps"],
            "req/s",
            target=1000.0,
            higher_is_better=True,
            note=f"median {median('async'):.0f}/s, p99 {best('async')['p99_ms']:.1f} ms; "
            "commits without waiting for the WAL flush (operator's choice)",
        ),
    ]
