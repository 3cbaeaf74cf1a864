"""Clusters: connected components of the case–contact graph.

Nodes are the cases of a disease that are not excluded. Two cases are linked
when one became a case from a contact link of the other (``Case.source_contact``
→ ``Contact.source_case``). A case pinned to a named cluster (``Case.named_cluster``,
a common exposure event such as "Itaewon Clubs") is linked to that cluster too.
Only components of two or more cases, or holding a pin, get a ``Cluster`` row;
a lone case has none.

Kept up to date incrementally (``cluster_link_case``: union of the clusters a
new link joins) and rebuilt in batch by ``cluster_recompute``: one raw query
for the link tuples, components found in memory (walk up the infector forest,
union-find for pins), then only the changed rows written in batches.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import common_path
from fangkong.core.types import Actor
from fangkong.investigation.models import Case, Cluster, Contact, Disease
from fangkong.investigation.selectors.cases import access_case_by_id
from fangkong.investigation.selectors.clusters import access_cluster_by_id

EXCLUDED = Case.Classification.EXCLUDED


def _write_case_clusters(pairs: list[tuple[int | None, int]]) -> None:
    """Set ``cluster_id`` of many cases: on PostgreSQL one ``UPDATE ... FROM
    (VALUES ...)`` per 5,000 rows; elsewhere one prepared UPDATE, many rows."""
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for i in range(0, len(pairs), 5000):
                chunk = pairs[i : i + 5000]
                values = ", ".join(["(%s::bigint, %s::bigint)"] * len(chunk))
                cursor.execute(
                    f"UPDATE {table} AS c SET cluster_id = v.cl FROM (VALUES {values}) "  # noqa: S608
                    "AS v(cl, id) WHERE c.id = v.id",
                    [x for pair in chunk for x in pair],
                )
            return
        sql = f"UPDATE {table} SET cluster_id = %s WHERE id = %s"  # noqa: S608
        for i in range(0, len(pairs), 20000):
            cursor.executemany(sql, pairs[i : i + 20000])


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _link_rows(disease: Disease) -> list[tuple[Any, ...]]:
    """(case id, cluster id, named cluster id, infector case id, scope path, report
    date) of every case of the disease that is not excluded: one query, raw rows."""
    case_t = connection.ops.quote_name(Case._meta.db_table)
    contact_t = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.cluster_id, c.named_cluster_id, k.source_case_id, "  # noqa: S608
            f"c.scope_path, c.report_date FROM {case_t} c "
            f"LEFT JOIN {contact_t} k ON k.id = c.source_contact_id "
            "WHERE c.disease_id = %s AND c.classification <> %s",
            [disease.pk, EXCLUDED],
        )
        return list(cursor.fetchall())


def _components(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[int, list[int]], dict[int, Counter[int]]]:
    """Group the link rows (see ``_link_rows``) into connected components of two or
    more cases, or holding a pin: {root: [row index]}, and the pins per root.

    Each case has at most one infector, so the infector links form a forest: the
    root of every case is found by walking up with memoisation (a cycle, which
    only bad data makes, is cut anywhere). Pins to named clusters then join trees
    through a small union-find over tree roots and named clusters (negative ids).
    """
    ids = {r[0] for r in rows}
    up = {r[0]: r[3] for r in rows if r[3] is not None and r[3] != r[0] and r[3] in ids}
    top: dict[int, int] = {}
    get_top, get_up = top.get, up.get
    limit = len(up) + 1
    for cid in up:
        if cid in top:
            continue
        path = [cid]
        x = cid
        while True:
            root = get_top(x)
            if root is not None:
                break
            nxt = get_up(x)
            if nxt is None or len(path) > limit:
                root = x
                break
            x = nxt
            path.append(x)
        for node in path:
            top[node] = root
    joined: dict[int, int] = {}  # union-find over tree roots and named clusters

    def find(x: int) -> int:
        while joined.get(x, x) != x:
            joined[x] = joined.get(joined[x], joined[x])
            x = joined[x]
        return x

    for r in rows:
        if r[2] is not None:
            a, b = find(get_top(r[0], r[0])), find(-r[2])
            if a != b:
                joined[b] = a
    components: dict[int, list[int]] = defaultdict(list)
    pinned: dict[int, Counter[int]] = defaultdict(Counter)
    for i, r in enumerate(rows):
        root = get_top(r[0])
        if root is None and r[2] is None:
            continue  # a lone case
        if root is None:
            root = r[0]
        if joined:
            root = find(root)
        components[root].append(i)
        if r[2] is not None:
            pinned[root][r[2]] += 1
    return components, pinned


def cluster_recompute(disease: Disease | str) -> dict[str, int]:
    """Rebuild every cluster of a disease from the links. Existing clusters keep
    their identity (named ones first, then the cluster most members were in).
    Returns counts: clusters, changed (cases moved), largest."""
    if isinstance(disease, str):
        disease = Disease.objects.get(code=disease)
    with transaction.atomic():
        rows = _link_rows(disease)
        components, pinned = _components(rows)
        # (named, case_count, last_case_at, scope_path) per existing cluster: tuples,
        # not model instances (tens of thousands of rows).
        existing: dict[int, tuple[Any, ...]] = {
            row[0]: row[1:]
            for row in Cluster.objects.filter(disease=disease).values_list(
                "id", "named", "case_count", "last_case_at", "scope_path"
            )
        }
        taken: set[int] = set()
        wanted: dict[int, int | None] = {}
        stats: dict[int, tuple[int, dt.date | None, str]] = {}
        new_components: list[list[int]] = []

        def stats_of(idx: list[int]) -> tuple[int, dt.date | None, str]:
            paths = [rows[i][4] for i in idx]
            first = paths[0]
            scope = first if paths.count(first) == len(paths) else common_path(paths)
            days = [rows[i][5] for i in idx if rows[i][5] is not None]  # a date may be unknown
            return len(idx), _as_date(max(days)) if days else None, scope

        for root, idx in sorted(components.items(), key=lambda kv: -len(kv[1])):
            if len(idx) < 2 and root not in pinned:
                continue
            target: int | None = None
            for named_id, _n in sorted(pinned[root].items(), key=lambda kv: (-kv[1], kv[0])):
                if named_id in existing and named_id not in taken:
                    target = named_id
                    break
            if target is None:
                current = rows[idx[0]][1]
                if current is not None and all(rows[i][1] == current for i in idx):
                    votes = [(current, len(idx))]
                else:
                    counted = Counter(rows[i][1] for i in idx if rows[i][1] is not None)
                    votes = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
                for cl, _n in votes:
                    if cl in existing and cl not in taken:
                        target = cl
                        break
            if target is None:
                new_components.append(idx)
                continue
            taken.add(target)
            for i in idx:
                wanted[rows[i][0]] = target
            stats[target] = stats_of(idx)
        if new_components:
            fresh = []
            for idx in new_components:
                n, last_day, where = stats_of(idx)
                fresh.append(
                    Cluster(disease=disease, case_count=n, last_case_at=last_day, scope_path=where)
                )
            created = Cluster.objects.bulk_create(fresh, batch_size=1000)
            for cluster, idx in zip(created, new_components, strict=True):
                taken.add(cluster.pk)
                for i in idx:
                    wanted[rows[i][0]] = cluster.pk
                stats[cluster.pk] = (cluster.case_count, cluster.last_case_at, cluster.scope_path)
        get_wanted = wanted.get
        changes = [(get_wanted(r[0]), r[0]) for r in rows if r[1] != get_wanted(r[0])]
        changes += [
            (None, cid)
            for cid in Case.objects.filter(
                disease=disease, classification=EXCLUDED, cluster__isnull=False
            ).values_list("id", flat=True)
        ]
        _write_case_clusters(changes)
        # Cluster rows: refresh stats, empty the unused named ones, drop the others.
        to_update = []
        unused_unnamed = []
        for pk, (named, *current) in existing.items():
            count, last, scope = stats.get(pk, (0, None, current[2]))
            if pk not in taken and not named:
                unused_unnamed.append(pk)
                continue
            if tuple(current) != (count, last, scope):
                to_update.append(
                    Cluster(pk=pk, case_count=count, last_case_at=last, scope_path=scope)
                )
        Cluster.objects.bulk_update(
            to_update, ["case_count", "last_case_at", "scope_path"], batch_size=2000
        )
        if unused_unnamed:
            for i in range(0, len(unused_unnamed), 5000):
                Cluster.objects.filter(pk__in=unused_unnamed[i : i + 5000]).delete()
    largest = max((s[0] for s in stats.values()), default=0)
    return {"clusters": len(taken), "changed": len(changes), "largest": largest}


def cluster_link_case(case: Case) -> Cluster | None:
    """Incremental update after ``case`` was created, got a source link or a pin:
    union of the clusters (and lone cases) the new links join. Call inside the
    writing transaction."""
    if case.classification == EXCLUDED:
        return None
    neighbour_ids: list[int] = []
    if case.source_contact_id is not None:
        src = (
            Case.objects.filter(contacts__pk=case.source_contact_id)
            .exclude(classification=EXCLUDED)
            .values_list("id", flat=True)
            .first()
        )
        if src is not None and src != case.pk:
            neighbour_ids.append(src)
    first_pin = False
    if case.named_cluster_id is not None:
        # The pin joins the component of the cases already pinned to that
        # cluster (which may since have been merged into another cluster).
        pinned = (
            Case.objects.filter(named_cluster_id=case.named_cluster_id)
            .exclude(pk=case.pk)
            .exclude(classification=EXCLUDED)
            .values_list("id", flat=True)
            .first()
        )
        if pinned is None:
            first_pin = True
        else:
            neighbour_ids.append(pinned)
    if not neighbour_ids and not first_pin:
        return None
    members = list(
        Case.objects.filter(pk__in=[case.pk, *neighbour_ids]).values_list(
            "id", "cluster_id", "scope_path", "report_date"
        )
    )
    cluster_ids = {m[1] for m in members if m[1] is not None}
    if first_pin and case.named_cluster_id is not None:
        cluster_ids.add(case.named_cluster_id)
    clusters = list(Cluster.objects.select_for_update().filter(pk__in=cluster_ids))
    if clusters:
        target = max(
            clusters, key=lambda c: (c.named, c.pk == case.named_cluster_id, c.case_count, -c.pk)
        )
    else:
        target = Cluster.objects.create(disease_id=case.disease_id)
    others = [c for c in clusters if c.pk != target.pk]
    lone = [m for m in members if m[1] is None]
    count = target.case_count + sum(c.case_count for c in others) + len(lone)
    days = [d for d in [target.last_case_at, *(c.last_case_at for c in others)] if d]
    days += [m[3] for m in lone if m[3]]
    scopes = [c.scope_path for c in [target, *others] if c.case_count] + [m[2] for m in lone]
    moved = Q(pk__in=[m[0] for m in lone]) if lone else Q(pk__in=[])
    if others:
        moved |= Q(cluster_id__in=[c.pk for c in others])
    Case.objects.filter(moved).update(cluster=target)
    # Merged clusters: named ones stay (empty), the others go. Nothing points at
    # them any more (their cases moved; only named clusters carry pins), so a
    # plain DELETE does.
    named_others = [c.pk for c in others if c.named]
    unnamed_others = [c.pk for c in others if not c.named]
    if named_others:
        Cluster.objects.filter(pk__in=named_others).update(case_count=0)
    if unnamed_others:
        table = connection.ops.quote_name(Cluster._meta.db_table)
        marks = ", ".join(["%s"] * len(unnamed_others))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({marks})", unnamed_others)  # noqa: S608
    target.case_count = count
    target.last_case_at = max(days) if days else None
    target.scope_path = common_path(scopes)
    target.save(update_fields=["case_count", "last_case_at", "scope_path", "updated_at"])
    case.cluster_id = target.pk
    return target


# --- Named clusters ----------------------------------------------------------------


def cluster_create_named(*, actor: Actor, disease_code: str, name: str) -> Cluster:
    """A named cluster (a common exposure event) to which cases can be pinned."""
    from fangkong.investigation.services.rules import disease_by_code

    permissions.require(actor, "cluster.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": _("A name is required.")})
    prefix = permissions.scope_path(actor)
    if prefix is None:
        raise ValidationFailed(fields={"name": _("You have no jurisdiction.")})
    with transaction.atomic():
        cluster = Cluster.objects.create(
            disease=disease_by_code(disease_code), name=name[:200], named=True, scope_path=prefix
        )
        audit_record(
            actor=actor,
            action="cluster.create",
            obj=cluster,
            scope_path=cluster.scope_path,
            changes=diff({}, {"name": cluster.name, "disease": disease_code}),
        )
    return cluster


def cluster_name(*, actor: Actor, cluster_id: int, name: str) -> Cluster:
    permissions.require(actor, "cluster.manage")
    name = (name or "").strip()
    with transaction.atomic():
        cluster = access_cluster_by_id(actor, cluster_id, for_update=True)
        if not name and Case.objects.filter(named_cluster=cluster).exists():
            raise ValidationFailed(
                fields={"name": _("Cases are assigned to this cluster: it keeps a name.")}
            )
        before = {"name": cluster.name, "named": cluster.named}
        cluster.name = name[:200]
        cluster.named = bool(name)
        cluster.save(update_fields=["name", "named", "updated_at"])
        audit_record(
            actor=actor,
            action="cluster.name",
            obj=cluster,
            scope_path=cluster.scope_path,
            changes=diff(before, {"name": cluster.name, "named": cluster.named}),
        )
    return cluster


def cluster_assign(*, actor: Actor, cluster_id: int, investigator_id: int | None) -> Cluster:
    """Give a cluster to an investigator (staff who can see it and manage cases)."""
    permissions.require(actor, "cluster.manage")
    with transaction.atomic():
        cluster = access_cluster_by_id(actor, cluster_id, for_update=True)
        user = None
        if investigator_id is not None:
            user = get_user_model().objects.filter(pk=investigator_id, is_active=True).first()
            profile = permissions.staff_profile(user) if user else None
            if (
                user is None
                or profile is None
                or not permissions.in_scope(actor, profile.jurisdiction.path)
                or not permissions.has_capability(user, "case.manage")
                or not permissions.in_scope(user, cluster.scope_path)
            ):
                raise ValidationFailed(
                    fields={"investigator_id": _("No such investigator for this cluster.")}
                )
        before = {"assigned_to": cluster.assigned_to_id}
        cluster.assigned_to = user
        cluster.save(update_fields=["assigned_to", "updated_at"])
        audit_record(
            actor=actor,
            action="cluster.assign",
            obj=cluster,
            scope_path=cluster.scope_path,
            changes=diff(before, {"assigned_to": user.pk if user else None}),
        )
    return cluster


def cluster_add_case(*, actor: Actor, cluster_id: int, case_id: int) -> Case:
    """Pin a case to a named cluster (it shares that exposure event)."""
    permissions.require(actor, "cluster.manage")
    with transaction.atomic():
        cluster = access_cluster_by_id(actor, cluster_id, for_update=True)
        case = access_case_by_id(actor, case_id, for_update=True)
        if not cluster.named:
            raise ValidationFailed(fields={"cluster_id": _("Name the cluster first.")})
        if cluster.disease_id != case.disease_id:
            raise ValidationFailed(fields={"case_id": _("This case is of another disease.")})
        before = {"named_cluster_id": case.named_cluster_id}
        case.named_cluster = cluster
        case.save(update_fields=["named_cluster", "updated_at"])
        audit_record(
            actor=actor,
            action="case.pin_cluster",
            obj=case,
            scope_path=case.scope_path,
            person_id=case.person_id,
            changes=diff(before, {"named_cluster_id": cluster.pk}),
        )
        if before["named_cluster_id"] not in (None, cluster.pk):
            transaction.on_commit(lambda: cluster_recompute(case.disease))
        else:
            cluster_link_case(case)
    return case
