"""Figures of issue 3 for cases, contacts, follow-up and clusters.

The data (built once per run, minimal rows inserted directly: benchmark database
only): a small tree (2 districts × 20 grids × 5 buildings), 1,060,000 cases
(quick: 106,000) in transmission trees of 20 cases each, so about 1,007,000
infector links (quick: 100,700) as ``Contact`` rows that became cases; plus
100,000 contacts under monitoring spread over both districts (both sizes).

(a) ``cluster_recompute``: ``cluster_recompute`` of the disease: the first run
    (every case gets its cluster: about 53,000 clusters created, a million case
    rows written) and a second, steady-state run (target < 5 s); floor = the bare
    SQL read of the link tuples on a raw cursor.
(b) ``cluster_incremental``: ``cluster_link_case`` after one new link (median of
    20): a new case infected by a case of an existing cluster; and a new case that
    joins two clusters (through a named-cluster pin). Target < 50 ms.
(c) ``contact_list``: first page of ``/api/v1/contacts?status=monitoring&
    jurisdiction_id=<district>`` through the Django test client as a city
    commander; floor = the same page and count on a raw cursor. Target < 300 ms.
(d) ``followup_daily``: ``followup_generate_daily`` for the whole city (100,000
    contacts under monitoring, teams at every grid, two at some); floor = one
    ``INSERT ... SELECT`` of the same rows without team assignment. Target < 60 s.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from bench.runner import Context, Figure, benchmark, copy_rows, next_id, people_load

SEED = 3003
TREE = 20  # cases per transmission tree
MONITORED = 100_000


def _tree() -> dict[str, Any]:
    from fangkong.core.services import jurisdiction_build

    node = None
    for level, name in (("province", "案件基准省"), ("city", "案件基准市")):
        node = jurisdiction_build(parent=node, level=level, name_zh=name)
    city = node
    districts, grids, buildings = [], [], []
    for d in range(2):
        district = jurisdiction_build(parent=city, level="district", name_zh=f"基准{d}区")
        districts.append(district)
        sub = jurisdiction_build(parent=district, level="subdistrict", name_zh="街道")
        com = jurisdiction_build(parent=sub, level="community", name_zh="社区")
        for g in range(20):
            grid = jurisdiction_build(parent=com, level="grid", name_zh=f"第{g + 1}网格")
            grids.append(grid)
            for b in range(5):
                buildings.append(
                    jurisdiction_build(parent=grid, level="building", name_zh=f"{b + 1}号楼")
                )
    return {"city": city, "districts": districts, "grids": grids, "buildings": buildings}


def ensure_cases(ctx: Context) -> dict[str, Any]:
    if "cases" in ctx.state:
        return dict(ctx.state["cases"])
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.core.models import Person
    from fangkong.investigation.models import Case, Contact, Disease
    from fangkong.investigation.services.rules import rules_in_force

    rng = random.Random(SEED)
    n_cases = ctx.size(1_060_000, 106_000)
    started = time.perf_counter()
    with transaction.atomic():
        tree = _tree()
    paths = [b.path for b in tree["buildings"]]
    disease = Disease.objects.get(code="covid19")
    today = timezone.localdate()
    rules = rules_in_force(disease, today)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    day = connection.ops.adapt_datefield_value(today - dt.timedelta(days=3))
    p0, k0, c0 = next_id(Person), next_id(Case), next_id(Contact)
    n_people = n_cases + MONITORED
    infector: dict[int, int] = {}
    for i in range(n_cases):
        if i % TREE:
            infector[i] = i - i % TREE + rng.randrange(i % TREE)
    ctx.say(
        f"  {n_people:,} people, {n_cases:,} cases, {len(infector):,} links, "
        f"{MONITORED:,} contacts under monitoring"
    )
    with transaction.atomic():
        first = people_load(
            n_people, tag="bcase", place=lambda i: (None, paths[(i // TREE) % len(paths)])
        )
        assert first == p0
        # Cases point at their (deferred-checked) source contact: contact id = c0 + i.
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
                "source_contact_id",
                "external_ref",
                "scope_path",
            ],
            (
                (
                    k0 + i,
                    now,
                    now,
                    f"B-{i:08d}",
                    p0 + i,
                    disease.pk,
                    rules.pk,
                    "confirmed",
                    day,
                    "",
                    "other",
                    "none",
                    "none",
                    "",
                    "none",
                    "completed",
                    (c0 + i) if i in infector else None,
                    "",
                    paths[(i // TREE) % len(paths)],
                )
                for i in range(n_cases)
            ),
        )
        contact_cols = [
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
        ]
        end = connection.ops.adapt_datefield_value(today + dt.timedelta(days=5))
        copy_rows(
            Contact._meta.db_table,
            contact_cols,
            (
                (
                    c0 + i,
                    now,
                    now,
                    disease.pk,
                    rules.pk,
                    k0 + src,
                    p0 + i,
                    "close",
                    "other",
                    "",
                    day,
                    day,
                    False,
                    "",
                    "",
                    "",
                    end,
                    "became_case",
                    "",
                    paths[(i // TREE) % len(paths)],
                )
                for i, src in infector.items()
            ),
        )
        copy_rows(
            Contact._meta.db_table,
            contact_cols,
            (
                (
                    c0 + n_cases + j,
                    now,
                    now,
                    disease.pk,
                    rules.pk,
                    k0 + rng.randrange(n_cases),
                    p0 + n_cases + j,
                    "close",
                    "household",
                    "",
                    day,
                    day,
                    False,
                    "",
                    "",
                    "",
                    end,
                    "monitoring",
                    "",
                    paths[j % len(paths)],
                )
                for j in range(MONITORED)
            ),
        )
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Person, Case, Contact]):
            cur.execute(sql)
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    ctx.say(f"  built in {time.perf_counter() - started:.0f} s")
    ctx.state["cases"] = {
        "tree": tree,
        "n_cases": n_cases,
        "links": len(infector),
        "k0": k0,
        "disease_id": disease.pk,
    }
    return dict(ctx.state["cases"])


def _median_ms(fn: Any, runs: int) -> float:
    fn()
    times = []
    for _i in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


@benchmark("cluster_recompute")
def bench_cluster_recompute(ctx: Context) -> list[Figure]:
    from django.db import connection

    from fangkong.investigation.models import Case, Contact
    from fangkong.investigation.services.clusters import cluster_recompute

    data = ensure_cases(ctx)
    t = time.perf_counter()
    first = cluster_recompute("covid19")
    initial = time.perf_counter() - t
    ctx.say(f"  first run: {first}")
    t = time.perf_counter()
    second = cluster_recompute("covid19")
    steady = time.perf_counter() - t
    ctx.say(f"  second run: {second}")
    ctx.state["clusters_built"] = True
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT c.id, c.cluster_id, c.named_cluster_id, k.source_case_id, c.scope_path, "  # noqa: S608
            f"c.report_date FROM {Case._meta.db_table} c LEFT JOIN {Contact._meta.db_table} k "
            "ON k.id = c.source_contact_id WHERE c.disease_id = %s AND c.classification <> %s",
            [data["disease_id"], "excluded"],
        )
        rows = cur.fetchall()
    floor = time.perf_counter() - t
    note = f"{data['links']:,} links, {len(rows):,} cases, {second['clusters']:,} clusters"
    return [
        Figure(
            "clusters: full recompute (steady state)",
            steady,
            "s",
            floor=floor,
            target=5.0,
            note=note,
        ),
        Figure(
            "clusters: first build (every case assigned)",
            initial,
            "s",
            floor=floor,
            target=None,
            note=note + f"; {first['changed']:,} case rows written",
        ),
    ]


@benchmark("cluster_incremental")
def bench_cluster_incremental(ctx: Context) -> list[Figure]:
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core.models import Person
    from fangkong.investigation.models import Case, Cluster, Contact
    from fangkong.investigation.services.clusters import cluster_link_case, cluster_recompute

    data = ensure_cases(ctx)
    if not ctx.state.get("clusters_built"):
        cluster_recompute("covid19")
        ctx.state["clusters_built"] = True
    rng = random.Random(SEED + 1)
    n, k0 = data["n_cases"], data["k0"]
    day = timezone.localdate() - dt.timedelta(days=1)
    runs = 20
    person_pool = list(
        Person.objects.filter(doc_hash__startswith="bcase")
        .order_by("-id")
        .values_list("id", "scope_path")[: 2 * runs + 4]
    )
    base = Case.objects.get(pk=k0)
    seq = {"i": 0}

    def new_case(infector_id: int, pin: Cluster | None) -> Case:
        pid, path = person_pool[seq["i"]]
        seq["i"] += 1
        contact = Contact.objects.create(
            disease_id=base.disease_id,
            rules_id=base.rules_id,
            source_case_id=infector_id,
            person_id=pid,
            category="close",
            exposure_type="other",
            first_exposure=day,
            last_exposure=day,
            status="became_case",
            scope_path=path,
        )
        return Case.objects.create(
            number=f"BI-{seq['i']}",
            person_id=pid,
            disease_id=base.disease_id,
            rules_id=base.rules_id,
            classification="confirmed",
            report_date=day,
            found_by="other",
            source_contact=contact,
            named_cluster=pin,
            scope_path=path,
        )

    join, merge = [], []
    for _r in range(runs):
        with transaction.atomic():
            case = new_case(k0 + rng.randrange(n), None)
            t = time.perf_counter()
            cluster_link_case(case)
            join.append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True)
        with transaction.atomic():
            named = Cluster.objects.create(disease_id=base.disease_id, name="event", named=True)
            first = Case.objects.get(pk=k0 + rng.randrange(n))
            first.named_cluster = named
            first.save(update_fields=["named_cluster"])
            cluster_link_case(first)
            case = new_case(k0 + rng.randrange(n), named)
            t = time.perf_counter()
            cluster_link_case(case)
            merge.append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True)
    return [
        Figure(
            "clusters: incremental, new case joins a cluster",
            statistics.median(join),
            "ms",
            target=50.0,
            note=f"median of {runs}; {data['links']:,} links",
        ),
        Figure(
            "clusters: incremental, new link merges two clusters",
            statistics.median(merge),
            "ms",
            target=50.0,
            note=f"median of {runs}",
        ),
    ]


def _commander(city: Any) -> Any:
    from django.contrib.auth import get_user_model

    from fangkong.core.models import Role, StaffProfile

    User = get_user_model()
    user = User.objects.filter(username="bench_case_commander").first()
    if user is None:
        user = User.objects.create_user(username="bench_case_commander", password=None)
        profile = StaffProfile.objects.create(user=user, jurisdiction=city)
        profile.roles.set(Role.objects.filter(code="city_commander"))
    return user


@benchmark("contact_list")
def bench_contact_list(ctx: Context) -> list[Figure]:
    from django.db import connection
    from django.test import Client

    from fangkong.core.models import Person, path_upper_bound
    from fangkong.investigation.models import Contact

    data = ensure_cases(ctx)
    district = data["tree"]["districts"][0]
    client = Client()
    client.force_login(
        _commander(data["tree"]["city"]), backend="django.contrib.auth.backends.ModelBackend"
    )
    url = f"/api/v1/contacts?status=monitoring&jurisdiction_id={district.pk}"
    runs = ctx.size(30, 10)

    def api() -> None:
        r = client.get(url)
        assert r.status_code == 200, r.content

    lo, hi = district.path, path_upper_bound(district.path)
    ct, pt = Contact._meta.db_table, Person._meta.db_table
    cond = "c.scope_path >= %s AND c.scope_path < %s AND c.status = %s"
    page_sql = (
        f"SELECT c.*, p.name FROM {ct} c JOIN {pt} p ON p.id = c.person_id "  # noqa: S608
        f"WHERE {cond} ORDER BY c.id DESC LIMIT 51"
    )
    count_sql = f"SELECT COUNT(*) FROM {ct} c WHERE {cond}"  # noqa: S608

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute(page_sql, [lo, hi, "monitoring"])
            cur.fetchall()
            cur.execute(count_sql, [lo, hi, "monitoring"])
            cur.fetchone()

    value = _median_ms(api, runs)
    floor = _median_ms(raw, runs)
    count = client.get(url).json()["count"]
    return [
        Figure(
            "contacts: list by status + district, first page",
            value,
            "ms",
            floor=floor,
            target=300.0,
            note=f"median of {runs}; {count:,} of {MONITORED:,} in the district",
        )
    ]


@benchmark("followup_daily")
def bench_followup_daily(ctx: Context) -> list[Figure]:
    from django.db import connection, transaction
    from django.utils import timezone

    from fangkong.investigation.models import Contact, FollowUp, FollowUpTeam
    from fangkong.investigation.services.followup import followup_generate_daily

    data = ensure_cases(ctx)
    grids = data["tree"]["grids"]
    with transaction.atomic():
        for i, grid in enumerate(grids):
            FollowUpTeam.objects.create(name=f"随访{i}", jurisdiction=grid, scope_path=grid.path)
            if i % 4 == 0:
                FollowUpTeam.objects.create(
                    name=f"随访{i}b", jurisdiction=grid, scope_path=grid.path
                )
    day = timezone.localdate() + dt.timedelta(days=1)
    t = time.perf_counter()
    created = followup_generate_daily(day)
    value = time.perf_counter() - t
    t = time.perf_counter()
    again = followup_generate_daily(day)
    rerun = time.perf_counter() - t
    # Floor: one INSERT ... SELECT of the same rows (no team), on another day.
    other = connection.ops.adapt_datefield_value(day + dt.timedelta(days=1))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ft, ct = FollowUp._meta.db_table, Contact._meta.db_table
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {ft} (created_at, updated_at, contact_id, date, status, symptoms, "  # noqa: S608
            f"scope_path) SELECT %s, %s, id, %s, 'not_attempted', '[]', scope_path FROM {ct} "
            "WHERE status = 'monitoring'",
            [now, now, other],
        )
    floor = time.perf_counter() - t
    return [
        Figure(
            "follow-up: daily lists for the city",
            value,
            "s",
            floor=floor,
            target=60.0,
            note=f"{created:,} follow-ups, {len(grids)} grids; re-run {rerun:.1f} s "
            f"created {again}",
        ),
    ]
