"""Checkpoints: the city's first landing points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction
from fangkong.core.types import Actor
from fangkong.entry.models import Checkpoint
from fangkong.entry.services.common import audit


@dataclass
class CheckpointData:
    name_zh: str
    kind: str
    jurisdiction_id: int
    name_en: str = ""
    lanes: int = 0
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    staff_on_duty: int = 0
    throughput_per_hour: int = 0


def _clean(data: CheckpointData) -> None:
    errors: dict[str, str] = {}
    if not data.name_zh.strip():
        errors["name_zh"] = _("Give the checkpoint's name.")
    if data.kind not in Checkpoint.Kind.values:
        errors["kind"] = _("Choose the kind of checkpoint.")
    if data.kind == Checkpoint.Kind.ROAD and data.lanes < 1:
        errors["lanes"] = _("A road checkpoint has at least one lane.")
    if (data.opens_at is None) != (data.closes_at is None):
        errors["closes_at"] = _("Give both the opening and the closing time, or neither.")
    for name in ("lanes", "staff_on_duty", "throughput_per_hour"):
        if not 0 <= getattr(data, name) <= LIMITS[name]:
            errors[name] = _("Give a number from 0 to %(most)s.") % {"most": LIMITS[name]}
    if errors:
        raise ValidationFailed(fields=errors)


LIMITS = {"lanes": 200, "staff_on_duty": 10_000, "throughput_per_hour": 1_000_000}
FIELDS = [
    "name_zh",
    "name_en",
    "kind",
    "lanes",
    "opens_at",
    "closes_at",
    "staff_on_duty",
    "throughput_per_hour",
]


def _shown(value: Any) -> Any:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else value


def _node(actor: Actor, jurisdiction_id: int) -> Jurisdiction:
    node = Jurisdiction.objects.filter(pk=jurisdiction_id).first()
    if node is None or not permissions.in_scope(actor, node.path):
        raise NotFound()
    return node


def checkpoint_create(*, actor: Actor, data: CheckpointData) -> Checkpoint:
    permissions.require(actor, "entry.checkpoints")
    _clean(data)
    node = _node(actor, data.jurisdiction_id)
    with transaction.atomic():
        checkpoint = Checkpoint.objects.create(
            name_zh=data.name_zh.strip()[:200],
            name_en=data.name_en.strip()[:200],
            kind=data.kind,
            jurisdiction=node,
            scope_path=node.path,
            lanes=data.lanes,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
            staff_on_duty=data.staff_on_duty,
            throughput_per_hour=data.throughput_per_hour,
        )
        audit(actor, checkpoint, "entry.checkpoint_create", name=checkpoint.name_zh)
    return checkpoint


def checkpoint_update(
    *, actor: Actor, checkpoint_id: int, data: CheckpointData, active: bool = True
) -> Checkpoint:
    """Edit a checkpoint (its area, lanes, hours, staff, throughput) or close it
    (``active=False``: it is no longer offered for scans; its arrivals stay)."""
    permissions.require(actor, "entry.checkpoints")
    _clean(data)
    with transaction.atomic():
        checkpoint = Checkpoint.objects.select_for_update().filter(pk=checkpoint_id).first()
        if checkpoint is None or not permissions.in_scope(actor, checkpoint.scope_path):
            raise NotFound()
        node = _node(actor, data.jurisdiction_id)
        before = {f: getattr(checkpoint, f) for f in FIELDS} | {
            "jurisdiction": checkpoint.jurisdiction_id,
            "active": checkpoint.active,
        }
        checkpoint.name_zh = data.name_zh.strip()[:200]
        checkpoint.name_en = data.name_en.strip()[:200]
        for name in FIELDS[2:]:
            setattr(checkpoint, name, getattr(data, name))
        checkpoint.jurisdiction = node
        checkpoint.scope_path = node.path
        checkpoint.active = active
        after = {f: getattr(checkpoint, f) for f in FIELDS} | {
            "jurisdiction": node.pk,
            "active": active,
        }
        changed = {k: [_shown(before[k]), _shown(after[k])] for k in after if before[k] != after[k]}
        if changed:
            checkpoint.save()
            audit_record(
                actor=actor,
                action="entry.checkpoint_update",
                obj=checkpoint,
                scope_path=checkpoint.scope_path,
                changes=changed,
            )
    return checkpoint
