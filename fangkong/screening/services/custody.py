"""Chain of custody (送 → 检): boxes, hand-over, receipt at the lab, test start.

Each step appends custody events (time, place, user); nothing in the chain is
ever changed or removed.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.types import Actor, acting_user
from fangkong.screening.models import Box, CustodyEvent, Lab, Tube
from fangkong.screening.selectors import access_round_by_id


def access_lab(actor: Actor, lab_id: int) -> Lab:
    """A lab the actor works at (its staff list) or that lies in their area."""
    lab = Lab.objects.filter(pk=lab_id, active=True).first()
    if lab is None:
        raise NotFound(fields={"lab_id": _("No such lab.")})
    if permissions.in_scope(actor, lab.scope_path) or (
        (user := acting_user(actor)) is not None and lab.staff.filter(pk=user.pk).exists()
    ):
        return lab
    raise NotFound(fields={"lab_id": _("No such lab.")})


def _events(
    tube_ids: list[int],
    stage: str,
    *,
    actor: Actor,
    at: dt.datetime,
    place: str,
    lab: Lab | None,
    box: Box | None,
) -> None:
    user = acting_user(actor)
    CustodyEvent.objects.bulk_create(
        [
            CustodyEvent(tube_id=t, box=box, stage=stage, time=at, place=place, lab=lab, user=user)
            for t in tube_ids
        ],
        batch_size=2000,
    )


def box_pack(
    *,
    actor: Actor,
    round_id: int,
    barcode: str,
    tube_barcodes: list[str],
    lab_id: int | None = None,
) -> Box:
    """Put closed tubes into a box (box barcode unique)."""
    permissions.require(actor, "screening.transport")
    rnd = access_round_by_id(actor, round_id, capability="screening.transport")
    barcode = (barcode or "").strip()
    if not barcode:
        raise ValidationFailed(fields={"barcode": _("Scan the box barcode.")})
    lab = None
    if lab_id is not None:
        lab = rnd.labs.filter(pk=lab_id).first()
        if lab is None:
            raise ValidationFailed(fields={"lab_id": _("This lab is not assigned to the round.")})
    with transaction.atomic():
        if Box.objects.filter(barcode=barcode).exists():
            raise Conflict(fields={"barcode": _("This box barcode has already been used.")})
        tubes = list(Tube.objects.select_for_update().filter(barcode__in=tube_barcodes, round=rnd))
        found = {t.barcode for t in tubes}
        missing = [b for b in tube_barcodes if b not in found]
        if missing:
            raise ValidationFailed(
                fields={
                    "tube_barcodes": _("Unknown tubes: %(codes)s.")
                    % {"codes": ", ".join(missing[:10])}
                }
            )
        bad = [t.barcode for t in tubes if t.state != Tube.State.CLOSED or t.box_id]
        if bad:
            raise ValidationFailed(
                fields={
                    "tube_barcodes": _("Only closed tubes not yet boxed can be packed: %(codes)s.")
                    % {"codes": ", ".join(bad[:10])}
                }
            )
        box = Box.objects.create(
            barcode=barcode,
            round=rnd,
            lab=lab,
            scope_path=permissions.scope_path(actor) or "",
            sealed_at=timezone.now(),
        )
        Tube.objects.filter(pk__in=[t.pk for t in tubes]).update(box=box)
        audit_record(
            actor=actor,
            action="screening.box.pack",
            obj=box,
            scope_path=box.scope_path,
            changes={"tubes": [None, len(tubes)]},
        )
    return box


def _box_for_update(actor: Actor, barcode: str) -> Box:
    box = Box.objects.select_for_update().filter(barcode=(barcode or "").strip()).first()
    if box is None:
        raise NotFound(fields={"barcode": _("No such box.")})
    return box


def box_hand_over(
    *, actor: Actor, barcode: str, place: str = "", at: dt.datetime | None = None
) -> Box:
    permissions.require(actor, "screening.transport")
    at = at or timezone.now()
    with transaction.atomic():
        box = _box_for_update(actor, barcode)
        if not permissions.in_scope(actor, box.scope_path):
            raise NotFound(fields={"barcode": _("No such box.")})
        if box.handed_over_at:
            raise ValidationFailed(fields={"barcode": _("This box has already been handed over.")})
        ids = list(box.tubes.values_list("pk", flat=True))
        box.handed_over_at = at
        box.save(update_fields=["handed_over_at", "updated_at"])
        Tube.objects.filter(pk__in=ids).update(state=Tube.State.HANDED_OVER)
        CustodyEvent.objects.create(
            box=box,
            stage=CustodyEvent.Stage.HANDED_OVER,
            time=at,
            place=place,
            user=acting_user(actor),
        )
        _events(
            ids, CustodyEvent.Stage.HANDED_OVER, actor=actor, at=at, place=place, lab=None, box=box
        )
        audit_record(
            actor=actor, action="screening.box.hand_over", obj=box, scope_path=box.scope_path
        )
    return box


def box_receive(
    *, actor: Actor, lab_id: int, barcode: str, place: str = "", at: dt.datetime | None = None
) -> Box:
    """The lab receives a box: every tube in it is now in the lab's custody."""
    permissions.require(actor, "screening.lab")
    lab = access_lab(actor, lab_id)
    at = at or timezone.now()
    with transaction.atomic():
        box = _box_for_update(actor, barcode)
        if box.received_at:
            raise ValidationFailed(fields={"barcode": _("This box has already been received.")})
        if box.lab_id and box.lab_id != lab.pk:
            raise ValidationFailed(fields={"barcode": _("This box is addressed to another lab.")})
        ids = list(box.tubes.values_list("pk", flat=True))
        box.received_at = at
        box.lab = lab
        box.save(update_fields=["received_at", "lab", "updated_at"])
        Tube.objects.filter(pk__in=ids).update(state=Tube.State.RECEIVED, lab=lab, received_at=at)
        place = place or lab.name
        CustodyEvent.objects.create(
            box=box,
            stage=CustodyEvent.Stage.RECEIVED,
            time=at,
            place=place,
            lab=lab,
            user=acting_user(actor),
        )
        _events(ids, CustodyEvent.Stage.RECEIVED, actor=actor, at=at, place=place, lab=lab, box=box)
        audit_record(
            actor=actor,
            action="screening.box.receive",
            obj=box,
            scope_path=lab.scope_path,
            changes={"lab": [None, lab.pk], "tubes": [None, len(ids)]},
        )
    return box


def tubes_test_start(
    *, actor: Actor, lab_id: int, tube_barcodes: list[str], at: dt.datetime | None = None
) -> int:
    permissions.require(actor, "screening.lab")
    lab = access_lab(actor, lab_id)
    at = at or timezone.now()
    with transaction.atomic():
        ids = list(
            Tube.objects.select_for_update()
            .filter(barcode__in=tube_barcodes, lab=lab, state=Tube.State.RECEIVED)
            .values_list("pk", flat=True)
        )
        Tube.objects.filter(pk__in=ids).update(state=Tube.State.TESTING)
        _events(
            ids,
            CustodyEvent.Stage.TEST_STARTED,
            actor=actor,
            at=at,
            place=lab.name,
            lab=lab,
            box=None,
        )
    return len(ids)
