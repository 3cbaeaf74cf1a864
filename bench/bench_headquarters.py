"""Figures of issue 21 (headquarters): the command dashboard of a 5 M city with a
month of outbreak data, the daily report, the 200,000-row line list.

The city (built once per run, rows loaded directly: benchmark database only):
10 districts (a subdistrict, a community, 2 grids, 5 buildings each), 5,000,000
people (quick: 500,000), 200,000 confirmed and asymptomatic cases reported over
the last 30 days (quick: 20,000) and as many close contacts under monitoring,
an open screening round over the city, the dashboard's cached case cells rebuilt.

(a) ``hq_dashboard``: ``GET /hq/dashboard/`` as the city commander through the
    Django test client (the whole first paint: every module's figures), median
    of 5 after one warm-up (the figures that count every resident come from the
    cache the job refreshes). Floor: a bare Django view behind the same session
    and middleware reading one row, on the same database. Target < 1 s. Then the
    job's recount of those figures (``slow_figures_refresh``), target < 300 s
    (its period).
(b) ``hq_daily_report``: the city's daily report made (``daily_report_make``:
    every figure, yesterday's cases by place, decisions, in both languages) and
    printed as PDF. Floor: printing the stored content alone. Target < 30 s.
(c) ``hq_line_list``: the 200,000-case line list (quick: 20,000) streamed as CSV
    through ``/investigation/cases/line-list/`` (consumed chunk by chunk), its
    time and the peak of Python memory while streaming (tracemalloc, a second
    pass); then the same as XLSX. Floor: the same columns read off a raw cursor
    in pages of 2,000 and written by ``csv.writer`` (time and peak). Targets:
    < 60 s and a peak under 64 MB whatever the size.

Run: ``fangkong bench --only hq_dashboard --only hq_daily_report --only hq_line_list``
(``--quick`` for reduced sizes); on PostgreSQL with ``DATABASE_URL=...``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import tracemalloc
from typing import Any

from bench.runner import Context, Figure, benchmark, copy_rows, next_id, people_load

DISTRICTS = 10
DAYS = 30


def _tree() -> dict[str, Any]:
    from fangkong.core.services import jurisdiction_build

    province = jurisdiction_build(parent=None, level="province", name_zh="指挥基准省")
    city = jurisdiction_build(parent=province, level="city", name_zh="指挥基准市")
    districts, buildings = [], []
    for d in range(DISTRICTS):
        district = jurisdiction_build(parent=city, level="district", name_zh=f"基准{d}区")
        districts.append(district)
        sub = jurisdiction_build(parent=district, level="subdistrict", name_zh="街道")
        com = jurisdiction_build(parent=sub, level="community", name_zh="社区")
        for g in range(2):
            grid = jurisdiction_build(parent=com, level="grid", name_zh=f"第{g + 1}网格")
            for b in range(5):
                buildings.append(
                    jurisdiction_build(parent=grid, level="building", name_zh=f"{b + 1}号楼")
                )
    return {"city": city, "districts": districts, "buildings": buildings}


def ensure_city(ctx: Context) -> dict[str, Any]:
    if "hq_city" in ctx.state:
        return dict(ctx.state["hq_city"])
    from django.contrib.auth import get_user_model
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.core.models import Role, StaffProfile
    from fangkong.headquarters.services.aggregates import case_figures_rebuild
    from fangkong.investigation.models import Case, Contact, Disease
    from fangkong.investigation.services.rules import rules_in_force
    from fangkong.screening.models import Round

    n_people = ctx.size(5_000_000, 500_000)
    n_cases = ctx.size(200_000, 20_000)
    started = time.perf_counter()
    with transaction.atomic():
        tree = _tree()
    paths = [b.path for b in tree["buildings"]]
    disease = Disease.objects.get(code="covid19")
    today = timezone.localdate()
    rules = rules_in_force(disease, today)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    days = [connection.ops.adapt_datefield_value(today - dt.timedelta(days=d)) for d in range(DAYS)]
    end = connection.ops.adapt_datefield_value(today + dt.timedelta(days=5))
    with transaction.atomic():
        p0 = people_load(n_people, tag="hq", place=lambda i: (None, paths[i % len(paths)]))
        k0, c0 = next_id(Case), next_id(Contact)
        copy_rows(
            Case._meta.db_table,
            [
                "id",
                "created_at",
                "updated_at",
                "number",
                "person_id",
                "disease_id",
                "rules_id",
                "classification",
                "report_date",
                "reporting_unit",
                "found_by",
                "severity",
                "treatment_facility",
                "facility_name",
                "outcome",
                "investigation_status",
                "external_ref",
                "scope_path",
            ],
            (
                (
                    k0 + i,
                    now,
                    now,
                    f"H-{i:08d}",
                    p0 + i * 7,
                    disease.pk,
                    rules.pk,
                    "confirmed" if i % 3 else "asymptomatic",
                    days[i % DAYS],
                    "",
                    "screening",
                    "none",
                    "none",
                    "",
                    "none",
                    "completed",
                    "",
                    paths[(i * 7) % len(paths)],
                )
                for i in range(n_cases)
            ),
        )
        copy_rows(
            Contact._meta.db_table,
            [
                "id",
                "created_at",
                "updated_at",
                "disease_id",
                "rules_id",
                "source_case_id",
                "person_id",
                "category",
                "exposure_type",
                "relation",
                "first_exposure",
                "last_exposure",
                "continuous_exposure",
                "frequency",
                "certainty",
                "notes",
                "monitoring_end",
                "status",
                "warning",
                "scope_path",
            ],
            (
                (
                    c0 + i,
                    now,
                    now,
                    disease.pk,
                    rules.pk,
                    k0 + i,
                    p0 + i * 7 + 1,
                    "close",
                    "household",
                    "",
                    days[3],
                    days[2],
                    False,
                    "",
                    "",
                    "",
                    end,
                    "monitoring",
                    "",
                    paths[(i * 7 + 1) % len(paths)],
                )
                for i in range(n_cases)
            ),
        )
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, Contact]):
            cur.execute(sql)
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    user = get_user_model().objects.create_user(username="bench_hq_commander")
    profile = StaffProfile.objects.create(
        user=user, jurisdiction=tree["city"], display_name="指挥长"
    )
    profile.roles.set(Role.objects.filter(code="city_commander"))
    rnd = Round.objects.create(
        name="全员筛查第1轮",
        scope_path=tree["city"].path,
        starts_at=timezone.now() - dt.timedelta(hours=3),
        ends_at=timezone.now() + dt.timedelta(hours=21),
        pooling_ratio=10,
    )
    rnd.areas.set([tree["city"]])
    cells = case_figures_rebuild(today=today)
    ctx.say(
        f"  {n_people:,} people, {n_cases:,} cases over {DAYS} days, {n_cases:,} contacts, "
        f"{cells} cached cells in {time.perf_counter() - started:.0f} s"
    )
    state = {"city_id": tree["city"].pk, "user_id": user.pk, "cases": n_cases, "people": n_people}
    ctx.state["hq_city"] = state
    return dict(state)


def _client(user_id: int) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(
        get_user_model().objects.get(pk=user_id),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    return client


def _median_s(fn: Any, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _i in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _bare_view_url() -> str:
    """A bare Django view (session, middleware, one row read) mounted for the run."""
    from django.http import HttpRequest, HttpResponse
    from django.urls import clear_url_caches, path

    from fangkong import urls
    from fangkong.core.models import Jurisdiction

    def bare(request: HttpRequest) -> HttpResponse:
        node = Jurisdiction.objects.filter(level="city").first()
        return HttpResponse(f"<p>{node.name if node else ''}</p>")

    if not any(getattr(p, "name", "") == "bench-bare" for p in urls.urlpatterns):
        urls.urlpatterns.insert(0, path("bench-bare/", bare, name="bench-bare"))
        clear_url_caches()
    return "/bench-bare/"


@benchmark("hq_dashboard")
def bench_dashboard(ctx: Context) -> list[Figure]:
    from django.core.management import call_command

    data = ensure_city(ctx)
    # The pages need the collected static manifest (the server runs without DEBUG);
    # collected every run, so a stylesheet added since the last run is in it.
    call_command("collectstatic", interactive=False, verbosity=0)
    client = _client(data["user_id"])
    bare = _bare_view_url()

    def page() -> None:
        r = client.get("/hq/dashboard/")
        assert r.status_code == 200, r.status_code

    def floor() -> None:
        r = client.get(bare)
        assert r.status_code == 200, r.status_code

    from django.utils import timezone

    from fangkong.headquarters.selectors.dashboard import slow_figures_refresh

    runs = 5
    value = _median_s(page, runs)
    base = _median_s(floor, runs)
    t = time.perf_counter()
    recounted = slow_figures_refresh(timezone.now())
    refresh = time.perf_counter() - t
    return [
        Figure(
            "hq: command dashboard first paint (city)",
            value * 1000,
            "ms",
            floor=base * 1000,
            target=1000.0,
            note=f"median of {runs}; {data['people']:,} people, {data['cases']:,} cases in "
            f"{DAYS} days; the residents' figures (days of supply, coverage) from the cache "
            "the job keeps warm",
        ),
        Figure(
            "hq: dashboard residents' figures recounted (job, every 5 min)",
            refresh,
            "s",
            target=300.0,
            note=f"{recounted} areas x languages; a cold first paint pays this for one",
        ),
    ]


@benchmark("hq_daily_report")
def bench_daily_report(ctx: Context) -> list[Figure]:
    from django.contrib.auth import get_user_model

    from fangkong.headquarters.report_render import report_pdf
    from fangkong.headquarters.selectors.reports import report_body
    from fangkong.headquarters.services.reports import daily_report_make

    data = ensure_city(ctx)
    user = get_user_model().objects.get(pk=data["user_id"])
    t = time.perf_counter()
    report = daily_report_make(actor=user)
    made = time.perf_counter() - t
    t = time.perf_counter()
    pdf = report_pdf(report_body(report, "zh-hans"))
    printed = time.perf_counter() - t
    t = time.perf_counter()
    report_pdf(report_body(report, "zh-hans"))
    floor = time.perf_counter() - t
    return [
        Figure(
            "hq: daily report made and printed (PDF)",
            made + printed,
            "s",
            floor=floor,
            target=30.0,
            note=f"made {made:.1f} s (both languages), printed {printed:.2f} s, "
            f"{len(pdf) // 1024} KB",
        )
    ]


def _drain(response: Any) -> int:
    n = 0
    for chunk in response.streaming_content:
        n += len(chunk)
    return n


def _peak(fn: Any) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@benchmark("hq_line_list")
def bench_line_list(ctx: Context) -> list[Figure]:
    import csv

    from django.db import connection

    from fangkong.core.sheets import CsvLine
    from fangkong.investigation.exports import CASE_FIELDS, CHUNK
    from fangkong.investigation.models import Case

    data = ensure_city(ctx)
    client = _client(data["user_id"])
    size: dict[str, int] = {}

    def csv_export() -> None:
        r = client.get("/investigation/cases/line-list/?format=csv")
        assert r.status_code == 200, r.status_code
        size["csv"] = _drain(r)

    def xlsx_export() -> None:
        r = client.get("/investigation/cases/line-list/?format=xlsx")
        assert r.status_code == 200, r.status_code
        size["xlsx"] = _drain(r)

    cols = ", ".join(c for c in CASE_FIELDS if "__" not in c)
    sql = f"SELECT {cols} FROM {Case._meta.db_table} ORDER BY scope_path, id"  # noqa: S608

    def raw_dump() -> None:
        writer = csv.writer(CsvLine())
        n = 0
        with connection.cursor() as cur:
            cur.execute(sql)
            while rows := cur.fetchmany(CHUNK):
                for row in rows:
                    n += len(writer.writerow(row))
        size["raw"] = n

    t = time.perf_counter()
    csv_export()
    csv_time = time.perf_counter() - t
    t = time.perf_counter()
    raw_dump()
    raw_time = time.perf_counter() - t
    t = time.perf_counter()
    xlsx_export()
    xlsx_time = time.perf_counter() - t
    csv_peak = _peak(csv_export)
    raw_peak = _peak(raw_dump)
    rows = data["cases"]
    return [
        Figure(
            f"hq: case line list, {rows:,} rows, CSV streamed",
            csv_time,
            "s",
            floor=raw_time,
            target=60.0,
            note=f"{size['csv'] / 2**20:.0f} MB",
        ),
        Figure(
            f"hq: case line list, {rows:,} rows, CSV peak Python memory",
            csv_peak,
            "MB",
            floor=raw_peak,
            target=64.0,
            note="tracemalloc peak while streaming; floor: raw cursor pages + csv.writer",
        ),
        Figure(
            f"hq: case line list, {rows:,} rows, XLSX",
            xlsx_time,
            "s",
            floor=raw_time,
            target=60.0,
            note=f"{size['xlsx'] / 2**20:.0f} MB; the first byte leaves when the workbook "
            "is complete",
        ),
    ]
