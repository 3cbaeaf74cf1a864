"""Reads of cases and trajectory stops, scoped to the user's jurisdiction subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from fangkong.core import permissions
from fangkong.core.errors import NotFound
from fangkong.core.models import path_upper_bound
from fangkong.investigation.models import Case, Disease, DiseaseRules, TrajectoryStop


def scoped(qs: QuerySet[Any], prefix: str, field: str = "scope_path") -> QuerySet[Any]:
    """Rows under ``prefix``: one range scan on a (scope_path, ...) index."""
    if not prefix:
        return qs
    return qs.filter(**{f"{field}__gte": prefix, f"{field}__lt": path_upper_bound(prefix)})


def disease_list() -> QuerySet[Disease]:
    return Disease.objects.filter(active=True).order_by("code")


def rules_list(disease_code: str) -> QuerySet[DiseaseRules]:
    return DiseaseRules.objects.filter(disease__code=disease_code).order_by(
        "-effective_from", "-version"
    )


def case_list_for(
    user: Any,
    *,
    disease: str | None = None,
    classification: str | None = None,
    investigation_status: str | None = None,
    investigator_id: int | None = None,
    under_path: str | None = None,
    reported_from: dt.date | None = None,
    reported_until: dt.date | None = None,
    cluster_id: int | None = None,
    q: str = "",
) -> QuerySet[Case]:
    permissions.require(user, "case.view")
    prefix = permissions.scope_path(user)
    if prefix is None:
        return Case.objects.none()
    qs = scoped(Case.objects.select_related("disease", "person"), prefix)
    if under_path:
        qs = scoped(qs, under_path)
    if disease:
        qs = qs.filter(disease__code=disease)
    if classification:
        qs = qs.filter(classification=classification)
    if investigation_status:
        qs = qs.filter(investigation_status=investigation_status)
    if investigator_id is not None:
        qs = qs.filter(investigator_id=investigator_id)
    if reported_from:
        qs = qs.filter(report_date__gte=reported_from)
    if reported_until:
        qs = qs.filter(report_date__lte=reported_until)
    if cluster_id is not None:
        qs = qs.filter(cluster_id=cluster_id)
    q = (q or "").strip()
    if q:
        qs = qs.filter(number__startswith=q) | qs.filter(external_ref=q)
    return qs.order_by("-id")


def access_case_by_id(
    user: Any,
    case_id: int,
    *,
    for_update: bool = False,
    related: tuple[str, ...] = ("disease", "rules", "person"),
    annotate: dict[str, Any] | None = None,
) -> Case:
    """A case the user may see (else NotFound). ``related``: the rows loaded with it
    (matching needs only the rules; loading the person decrypts their fields);
    ``annotate``: expressions read in the same query."""
    permissions.require(user, "case.view")
    qs = Case.objects.select_related(*related)
    if annotate:
        qs = qs.annotate(**annotate)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    case = qs.filter(pk=case_id).first()
    if case is None or not permissions.in_scope(user, case.scope_path):
        raise NotFound()
    return case


def stop_list_for(user: Any, case: Case) -> QuerySet[TrajectoryStop]:
    permissions.require_in_scope(user, case.scope_path)
    return TrajectoryStop.objects.filter(case=case).select_related("venue").order_by("start", "id")
