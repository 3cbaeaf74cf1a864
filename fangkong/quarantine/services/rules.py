"""The rules in force (data) that the quarantine services apply."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fangkong.core.errors import ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.quarantine.models import (
    ActivationRule,
    CapacityRule,
    ClosedLoopRule,
    DocumentTemplate,
    QuarantineRule,
    StayCategory,
)


def category_by_code(code: str) -> StayCategory:
    category = StayCategory.objects.filter(code=code, active=True).first()
    if category is None:
        raise ValidationFailed(
            fields={"category": _("“%(value)s” is not a quarantine category.") % {"value": code}}
        )
    return category


def quarantine_rule(category: StayCategory, disease_code: str, on: dt.date) -> QuarantineRule:
    """The latest version in force on ``on`` for the category and disease (the
    disease's own rule first, else the rule for every disease)."""
    rules = QuarantineRule.objects.filter(
        category=category, effective_from__lte=on, disease_code__in=[disease_code, ""]
    ).order_by("-effective_from", "-version")
    own = [r for r in rules if r.disease_code == disease_code and disease_code]
    rule = own[0] if own else next((r for r in rules if r.disease_code == ""), None)
    if rule is None:
        raise ValidationFailed(
            fields={
                "category": _("No quarantine rule is in force for %(category)s on %(date)s.")
                % {"category": category.name, "date": date_format(on)}
            }
        )
    return rule


def planned_end(rule: QuarantineRule, started_on: dt.date) -> dt.date:
    """The day the stay may end: the day after its last day of quarantine."""
    return started_on + dt.timedelta(days=rule.quarantine_days)


def activation_rule(path: str, on: dt.date) -> ActivationRule | None:
    """The rule of the nearest node at or above ``path``, else the general one."""
    ancestors = [path[:i] for i in range(4, len(path) + 1, 4)]
    rows = list(
        ActivationRule.objects.filter(effective_from__lte=on)
        .filter(Q(jurisdiction__path__in=ancestors) | Q(jurisdiction__isnull=True))
        .select_related("jurisdiction")
        .order_by("-effective_from", "-id")
    )
    best: ActivationRule | None = None
    best_depth = -1
    for r in rows:
        depth = len(r.jurisdiction.path) if r.jurisdiction is not None else 0
        if depth > best_depth:
            best, best_depth = r, depth
    return best


def pool_node(path: str) -> Jurisdiction | None:
    """The area whose active sites form one pool for tiered activation: the
    city above ``path`` (or the top node when there is no city)."""
    ancestors = [path[:i] for i in range(4, len(path) + 1, 4)]
    nodes = list(Jurisdiction.objects.filter(path__in=ancestors).order_by("path"))
    city = next((n for n in nodes if n.level == Jurisdiction.Level.CITY), None)
    return city or (nodes[0] if nodes else None)


def closed_loop_rule(on: dt.date) -> ClosedLoopRule:
    rule = ClosedLoopRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if rule is None:
        raise ValidationFailed(
            fields={"started_on": _("No closed-loop rule is in force on that day.")}
        )
    return rule


def capacity_rule(on: dt.date) -> CapacityRule | None:
    return CapacityRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


def document_template(kind: str, language: str, on: dt.date) -> DocumentTemplate:
    qs = DocumentTemplate.objects.filter(kind=kind, effective_from__lte=on).order_by(
        "-effective_from", "-id"
    )
    template = qs.filter(language=language).first() or qs.first()
    if template is None:
        raise ValidationFailed(
            fields={"language": _("No document template is in force; ask an administrator.")}
        )
    return template
