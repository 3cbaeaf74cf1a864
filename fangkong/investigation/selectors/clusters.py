"""Reads of clusters, transmission chains and investigation KPIs."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.investigation.models import Case, Cluster, Contact, FollowUp
from fangkong.investigation.selectors.cases import access_case_by_id, scoped

EXCLUDED = Case.Classification.EXCLUDED


def cluster_list_for(
    user: Any,
    *,
    disease: str | None = None,
    named: bool | None = None,
    active_since: dt.date | None = None,
    min_size: int = 2,
    today: dt.date | None = None,
) -> QuerySet[Cluster]:
    """Clusters of the user's area (a cluster lives at the deepest node holding all
    its cases), largest first, with ``new_cases_7d`` annotated."""
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Cluster.objects.none()
    today = today or timezone.localdate()
    qs = scoped(Cluster.objects.select_related("disease"), prefix)
    if disease:
        qs = qs.filter(disease__code=disease)
    if named is not None:
        qs = qs.filter(named=named)
    if active_since is not None:
        qs = qs.filter(last_case_at__gte=active_since)
    if min_size:
        qs = qs.filter(Q(case_count__gte=min_size) | Q(named=True))
    annotated: QuerySet[Cluster] = qs.annotate(
        new_cases_7d=Count("cases", filter=Q(cases__report_date__gt=today - dt.timedelta(days=7)))
    )
    return annotated.order_by("-case_count", "id")


def chain_components(
    links: Iterable[tuple[int, int | None]],
) -> list[tuple[set[int], int]]:
    """Transmission chains: the connected components of the cases joined by infector
    links alone (``(case id, infector case id or None)`` per case; a link to a case
    not listed is ignored), as (members, size), largest first."""
    rows = list(links)
    ids = {case_id for case_id, _src in rows}
    parent: dict[int, int] = {i: i for i in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for case_id, src in rows:
        if src is not None and src in ids:
            a, b = find(case_id), find(src)
            if a != b:
                parent[a] = b
    members: dict[int, set[int]] = defaultdict(set)
    for i in ids:
        members[find(i)].add(i)
    return sorted(((m, len(m)) for m in members.values()), key=lambda c: (-c[1], min(c[0])))


def chain_and_cluster_figures(user: Any) -> dict[str, dict[str, int]]:
    """In the user's area: the transmission chains (two or more cases joined by
    infector links alone: count, largest) and the clusters (joined by links and
    named events: count of two or more cases, largest (a named event may hold one),
    named ones)."""
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        raise NotFound()
    cases = scoped(Case.objects.exclude(classification=EXCLUDED), prefix)
    chains = [
        size
        for _m, size in chain_components(cases.values_list("id", "source_contact__source_case_id"))
        if size >= 2
    ]
    clusters = scoped(Cluster.objects.all(), prefix)
    sized = list(clusters.filter(case_count__gte=1).values_list("case_count", flat=True))
    return {
        "chains": {"count": len(chains), "largest": max(chains, default=0)},
        "clusters": {
            "count": sum(1 for n in sized if n >= 2),
            "largest": max(sized, default=0),
            "named": clusters.filter(named=True).count(),
        },
    }


def access_cluster_by_id(user: Any, cluster_id: int, *, for_update: bool = False) -> Cluster:
    permissions.require(user, "case.view")
    qs = Cluster.objects.select_related("disease")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    cluster = qs.filter(pk=cluster_id).first()
    if cluster is None or not permissions.in_scope(user, cluster.scope_path):
        raise NotFound()
    return cluster


def _graph(case_rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Nodes with generation numbers (1 = no known infector among the nodes) and
    infector → infectee edges."""
    ids = {r[0] for r in case_rows}
    children: dict[int, list[int]] = defaultdict(list)
    infector: dict[int, int] = {}
    for r in case_rows:
        src = r[1]
        if src is not None and src in ids and src != r[0]:
            children[src].append(r[0])
            infector[r[0]] = src
    generation: dict[int, int] = {}
    queue: deque[int] = deque()
    for cid in sorted(ids):
        if cid not in infector:
            generation[cid] = 1
            queue.append(cid)
    while queue:
        cid = queue.popleft()
        for child in children[cid]:
            if child not in generation:
                generation[child] = generation[cid] + 1
                queue.append(child)
    for cid in ids:  # a cycle (bad data) has no root: count it from 1
        generation.setdefault(cid, 1)
    nodes = [
        {
            "id": r[0],
            "number": r[2],
            "classification": r[3],
            "onset_date": r[4],
            "report_date": r[5],
            "generation": generation[r[0]],
        }
        for r in sorted(case_rows, key=lambda r: (generation[r[0]], r[0]))
    ]
    edges = [{"source": src, "target": cid} for cid, src in sorted(infector.items())]
    return {
        "nodes": nodes,
        "edges": edges,
        "generations": max(generation.values(), default=0),
    }


_FIELDS = (
    "id",
    "source_contact__source_case_id",
    "number",
    "classification",
    "onset_date",
    "report_date",
)


def cluster_graph(user: Any, cluster: Cluster) -> dict[str, Any]:
    permissions.require_in_scope(user, cluster.scope_path)
    rows = list(
        Case.objects.filter(cluster=cluster).exclude(classification=EXCLUDED).values_list(*_FIELDS)
    )
    return _graph(rows)


def case_chain(user: Any, case_id: int) -> dict[str, Any]:
    """The transmission chain a case belongs to (its whole cluster), for a
    hierarchical graph: nodes (case number, classification, dates, generation)
    and infector → infectee edges. Shows case numbers only, no names."""
    case = access_case_by_id(user, case_id)
    if case.cluster_id is None:
        rows = [
            (case.pk, None, case.number, case.classification, case.onset_date, case.report_date)
        ]
    else:
        rows = list(
            Case.objects.filter(cluster_id=case.cluster_id)
            .exclude(classification=EXCLUDED)
            .values_list(*_FIELDS)
        )
    graph = _graph(rows)
    graph["case_id"] = case.pk
    graph["cluster_id"] = case.cluster_id
    return graph


def investigation_kpis(
    user: Any,
    *,
    disease: str | None = None,
    today: dt.date | None = None,
    new_case_days: int = 7,
    active_days: int = 14,
) -> dict[str, Any]:
    """Go.Data-style indicators for the user's area:

    - contacts per case (mean, median) over cases that are not excluded
    - share of the new cases (reported in the last ``new_case_days``) that were
      already known as contacts (they have a source contact link)
    - contacts followed up today (and how many were due)
    - contacts lost to follow-up
    - active chains: clusters with a case reported in the last ``active_days``
    """
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        raise NotFound()
    today = today or timezone.localdate()
    cases = scoped(Case.objects.exclude(classification=EXCLUDED), prefix)
    contacts = scoped(Contact.objects.all(), prefix)
    followups = scoped(FollowUp.objects.filter(date=today), prefix)
    if disease:
        cases = cases.filter(disease__code=disease)
        contacts = contacts.filter(disease__code=disease)
        followups = followups.filter(contact__disease__code=disease)
    per_case = list(cases.annotate(n=Count("contacts")).values_list("n", flat=True))
    new_cases = cases.filter(report_date__gt=today - dt.timedelta(days=new_case_days))
    new_total = new_cases.count()
    new_known = new_cases.filter(source_contact__isnull=False).count()
    fu = followups.aggregate(
        due=Count("id"),
        done=Count("id", filter=~Q(status=FollowUp.Status.NOT_ATTEMPTED)),
    )
    clusters = scoped(Cluster.objects.all(), prefix).filter(
        case_count__gte=2, last_case_at__gt=today - dt.timedelta(days=active_days)
    )
    if disease:
        clusters = clusters.filter(disease__code=disease)
    return {
        "cases": len(per_case),
        "contacts_per_case_mean": round(statistics.fmean(per_case), 2) if per_case else 0.0,
        "contacts_per_case_median": float(statistics.median(per_case)) if per_case else 0.0,
        "new_cases": new_total,
        "new_cases_known_contacts": new_known,
        "new_cases_known_share": round(new_known / new_total, 3) if new_total else 0.0,
        "followups_due_today": fu["due"],
        "followups_done_today": fu["done"],
        "contacts_under_monitoring": contacts.filter(status=Contact.Status.MONITORING).count(),
        "contacts_lost": contacts.filter(status=Contact.Status.LOST).count(),
        "active_chains": clusters.count(),
    }
