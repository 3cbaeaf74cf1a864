"""Reads the staff pages need beyond the API selectors: a case's contacts wherever
they live, staff who may investigate, districts to filter by, case counts by onset
day, and cluster generations. All scoped to the user's jurisdiction subtree."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.core import permissions
from fangkong.core.models import Jurisdiction, StaffProfile
from fangkong.core.selectors import jurisdiction_list_for
from fangkong.investigation.models import Case, Contact
from fangkong.investigation.selectors.cases import scoped


def case_contacts(user: Any, case: Case) -> QuerySet[Contact]:
    """Contacts traced from a case the user may see: its own contacts and the
    secondary contacts of those, wherever the contacts live (the investigator of
    a case follows the people they traced in other districts)."""
    permissions.require(user, "contact.view")
    permissions.require_in_scope(user, case.scope_path)
    return (
        Contact.objects.filter(Q(source_case=case) | Q(source_contact__source_case=case))
        .select_related("person", "source_contact", "source_contact__person")
        .order_by("category", "id")
    )


def district_choices(user: Any) -> list[Jurisdiction]:
    """The districts (or the user's own node when below district level) to filter
    lists by."""
    if not permissions.has_capability(user, "jurisdiction.view"):
        return []
    return list(
        jurisdiction_list_for(user)
        .filter(level=Jurisdiction.Level.DISTRICT)
        .only("id", "name_zh", "name_en", "path")
        .order_by("path")[:200]
    )


def grid_choices(user: Any) -> list[Jurisdiction]:
    if not permissions.has_capability(user, "jurisdiction.view"):
        return []
    return list(
        jurisdiction_list_for(user)
        .filter(level__in=[Jurisdiction.Level.GRID, Jurisdiction.Level.BUILDING])
        .only("id", "name_zh", "name_en", "path", "level")
        .order_by("path")[:300]
    )


def investigator_choices(user: Any, case: Case) -> list[Any]:
    """Active staff of the user's area who may manage cases of this case's area."""
    prefix = permissions.scope_path(user)
    if prefix is None:
        return []
    profiles = (
        scoped(StaffProfile.objects.all(), prefix, field="jurisdiction__path")
        .filter(user__is_active=True)
        .select_related("user", "jurisdiction")
        .prefetch_related("roles")
        .order_by("display_name", "id")[:300]
    )
    found = []
    for profile in profiles:
        caps = {c for role in profile.roles.all() for c in (role.capabilities or [])}
        if "case.manage" in caps and case.scope_path.startswith(profile.jurisdiction.path):
            found.append(profile.user)
    return found


def case_onset_counts(
    user: Any,
    *,
    disease: str | None = None,
    days: int = 60,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Cases of the user's area (not excluded) per onset day and classification over
    the last ``days`` days, plus how many in that report window have no onset."""
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    empty: dict[str, Any] = {"days": [], "series": {}, "without_onset": 0}
    if prefix is None:
        return empty
    qs = scoped(Case.objects.exclude(classification=Case.Classification.EXCLUDED), prefix)
    if disease:
        qs = qs.filter(disease__code=disease)
    rows = (
        qs.filter(onset_date__gte=since, onset_date__lte=today)
        .order_by()
        .values_list("onset_date", "classification")
        .annotate(n=Count("id"))
    )
    series: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for day, classification, n in rows:
        series[classification][day] = n
    all_days = [since + dt.timedelta(days=i) for i in range(days)]
    without = qs.filter(onset_date__isnull=True, report_date__gte=since).count()
    return {
        "days": all_days,
        "series": {k: [v.get(d, 0) for d in all_days] for k, v in series.items()},
        "without_onset": without,
    }


def cluster_generations(user: Any, cluster_ids: list[int]) -> dict[int, int]:
    """Number of generations (longest infector chain, counted from 1) per cluster."""
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    if prefix is None or not cluster_ids:
        return {}
    rows = (
        scoped(Case.objects.all(), prefix)
        .filter(cluster_id__in=cluster_ids)
        .exclude(classification=Case.Classification.EXCLUDED)
        .values_list("cluster_id", "id", "source_contact__source_case_id")
    )
    members: dict[int, dict[int, int | None]] = defaultdict(dict)
    for cluster_id, case_id, source in rows:
        members[cluster_id][case_id] = source
    result: dict[int, int] = {}
    for cluster_id, infector in members.items():
        children: dict[int, list[int]] = defaultdict(list)
        roots = []
        for cid, src in infector.items():
            if src is not None and src in infector and src != cid:
                children[src].append(cid)
            else:
                roots.append(cid)
        depth = {cid: 1 for cid in roots}
        queue = deque(roots)
        while queue:
            cid = queue.popleft()
            for child in children[cid]:
                if child not in depth:
                    depth[child] = depth[cid] + 1
                    queue.append(child)
        result[cluster_id] = max(depth.values(), default=1)
    return result
