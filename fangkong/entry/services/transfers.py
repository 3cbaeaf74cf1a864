"""Point-to-point transfers (点对点转运) and home hand-offs.

A transfer takes arrivals from their checkpoint to a quarantine site, home or a
hospital. The origin scans it out (departure), the destination scans it in
(hand-over): once, and only the destination named on the transfer. A transfer
not handed over within its window is escalated (``transfers_escalate``, a job).
The hand-over publishes ``transfer.handed_over`` (docs/events.md): quarantine
opens a stay per person at the site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import events, permissions
from fangkong.core.audit import audit_record_many
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.types import Actor, acting_user
from fangkong.entry.models import Arrival, Checkpoint, HomeHandoff, Transfer, TransferPassenger
from fangkong.entry.services.common import audit, plate_clean
from fangkong.quarantine.selectors.shared import site_choice

MAX_WINDOW_MINUTES = 24 * 60
# The quarantine category of people handed over, by entry's category (the
# quarantine rules know these codes; anything else would be admitted as "other").
QUARANTINE_CATEGORY = {"centralised_quarantine": "risk_area_arrival"}
DEFAULT_QUARANTINE_CATEGORY = "inbound_traveller"


@dataclass
class TransferData:
    checkpoint_id: int
    arrival_ids: list[int]
    vehicle_plate: str
    driver_name: str
    destination_kind: str
    destination_name: str
    destination_id: int | None = None
    escort_name: str = ""
    window_minutes: int = 120


def transfer_create(*, actor: Actor, data: TransferData) -> Transfer:
    permissions.require(actor, "entry.transfer")
    errors: dict[str, str] = {}
    try:
        plate = plate_clean(data.vehicle_plate, field="vehicle_plate", required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        plate = ""
    if not data.driver_name.strip():
        errors["driver_name"] = _("Give the driver's name.")
    if data.destination_kind not in Transfer.DestinationKind.values:
        errors["destination_kind"] = _("Choose where the transfer goes.")
    elif (
        data.destination_kind == Transfer.DestinationKind.QUARANTINE_SITE
        and data.destination_id is None
    ):
        errors["destination_id"] = _("Choose the quarantine site.")
    destination_name = data.destination_name.strip()
    if (
        data.destination_kind == Transfer.DestinationKind.QUARANTINE_SITE
        and data.destination_id is not None
    ):
        try:
            destination_name = site_choice(actor, data.destination_id).name
        except NotFound:
            errors["destination_id"] = _("No active quarantine site of the city has this number.")
    if not destination_name:
        errors["destination_name"] = _("Name the destination.")
    if not 10 <= data.window_minutes <= MAX_WINDOW_MINUTES:
        errors["window_minutes"] = _("Allow between 10 minutes and a day.")
    ids = sorted(set(data.arrival_ids))
    if not ids:
        errors["arrival_ids"] = _("Choose the people on board.")
    if errors:
        raise ValidationFailed(fields=errors)
    checkpoint = Checkpoint.objects.filter(pk=data.checkpoint_id).first()
    if checkpoint is None or not permissions.in_scope(actor, checkpoint.scope_path):
        raise NotFound()
    with transaction.atomic():
        arrivals = list(
            Arrival.objects.select_for_update().filter(pk__in=ids, checkpoint=checkpoint)
        )
        if len(arrivals) != len(ids) or any(a.person_id is None for a in arrivals):
            raise NotFound()
        busy = [a for a in arrivals if a.state != Arrival.State.ARRIVED]
        if busy:
            raise Conflict(
                _("Someone on board is already being transferred or handed over."),
                fields={
                    "arrival_ids": _("Already transferred: %(ids)s.")
                    % {"ids": ", ".join(str(a.pk) for a in busy)}
                },
                code="already_transferred",
            )
        transfer = Transfer.objects.create(
            checkpoint=checkpoint,
            scope_path=checkpoint.scope_path,
            vehicle_plate=plate,
            driver_name=data.driver_name.strip()[:100],
            escort_name=data.escort_name.strip()[:100],
            destination_kind=data.destination_kind,
            destination_id=data.destination_id,
            destination_name=destination_name[:200],
            window_minutes=data.window_minutes,
            created_by=acting_user(actor),
        )
        TransferPassenger.objects.bulk_create(
            [
                TransferPassenger(transfer=transfer, arrival=a, person_id=int(a.person_id or 0))
                for a in arrivals
            ]
        )
        Arrival.objects.filter(pk__in=ids).update(
            state=Arrival.State.TRANSFERRING, updated_at=timezone.now()
        )
        audit(actor, transfer, "entry.transfer_create", people=len(ids), plate=plate)
    return transfer


def _access(actor: Actor, transfer_id: int) -> Transfer:
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound()
    return transfer


def transfer_depart(*, actor: Actor, transfer_id: int) -> Transfer:
    """The origin's scan: the vehicle leaves the checkpoint; the clock runs."""
    permissions.require(actor, "entry.transfer")
    with transaction.atomic():
        transfer = _access(actor, transfer_id)
        if not permissions.in_scope(actor, transfer.scope_path):
            raise NotFound()
        if transfer.state != Transfer.State.PLANNED:
            raise Conflict(_("This transfer has already left."), code="already_departed")
        transfer.state = Transfer.State.DEPARTED
        transfer.departed_at = timezone.now()
        transfer.departed_by = acting_user(actor)
        transfer.due_at = transfer.departed_at + dt.timedelta(minutes=transfer.window_minutes)
        transfer.save(update_fields=["state", "departed_at", "departed_by", "due_at", "updated_at"])
        audit(actor, transfer, "entry.transfer_depart")
    return transfer


DEVIATION_NOTE_MAX = 300
DEVIATIONS_MAX = 50


def transfer_deviation_record(*, actor: Actor, transfer_id: int, note: str) -> Transfer:
    """A route deviation of a transfer on the way (a stop, a detour, a door
    opened), reported by the escort or seen by the tracker: kept on the transfer
    with its time and who reported it, audited."""
    permissions.require(actor, "entry.transfer")
    text = " ".join((note or "").split())
    if not text:
        raise ValidationFailed(fields={"note": _("Say what happened on the way.")})
    if len(text) > DEVIATION_NOTE_MAX:
        raise ValidationFailed(
            fields={"note": _("At most %(n)s characters.") % {"n": DEVIATION_NOTE_MAX}}
        )
    with transaction.atomic():
        transfer = _access(actor, transfer_id)
        if not permissions.in_scope(actor, transfer.scope_path):
            raise NotFound()
        if transfer.state != Transfer.State.DEPARTED:
            raise Conflict(
                _("Only a transfer on the way can deviate from its route."), code="not_on_the_way"
            )
        if len(transfer.deviations) >= DEVIATIONS_MAX:
            raise Conflict(_("This transfer has too many deviations recorded."), code="too_many")
        user = acting_user(actor)
        transfer.deviations = [
            *transfer.deviations,
            {
                "at": timezone.now().isoformat(),
                "note": text,
                "by": getattr(user, "username", "") if user else "",
            },
        ]
        transfer.save(update_fields=["deviations", "updated_at"])
        audit(actor, transfer, "entry.transfer_deviation", note=text)
    return transfer


def transfer_hand_over(
    *, actor: Actor, transfer_id: int, destination_id: int | None = None
) -> Transfer:
    """The destination's scan: the people are handed over. Confirmed once, and
    only for the destination named on the transfer (a quarantine site scans with
    its id); ``transfer.handed_over`` tells quarantine."""
    permissions.require(actor, "entry.handover")
    with transaction.atomic():
        transfer = _access(actor, transfer_id)
        if transfer.destination_kind == Transfer.DestinationKind.QUARANTINE_SITE:
            if destination_id is None:
                raise ValidationFailed(fields={"destination_id": _("Scan the site's code.")})
            site_choice(actor, destination_id)  # NotFound outside the actor's city
        elif not permissions.in_scope(actor, transfer.scope_path):
            raise NotFound()
        if transfer.state == Transfer.State.HANDED_OVER:
            raise Conflict(_("This transfer was already handed over."), code="already_handed_over")
        if transfer.state != Transfer.State.DEPARTED:
            raise Conflict(_("This transfer has not left its checkpoint yet."), code="not_departed")
        if transfer.destination_id is not None and destination_id != transfer.destination_id:
            raise Conflict(
                _("This transfer goes to another destination."),
                fields={"destination_id": _("Not the destination of this transfer.")},
                code="wrong_destination",
            )
        now = timezone.now()
        transfer.state = Transfer.State.HANDED_OVER
        transfer.handed_over_at = now
        transfer.handed_over_by = acting_user(actor)
        transfer.save(update_fields=["state", "handed_over_at", "handed_over_by", "updated_at"])
        passengers = list(
            TransferPassenger.objects.filter(transfer=transfer)
            .select_related("arrival")
            .order_by("id")
        )
        arrival_ids = [p.arrival_id for p in passengers]
        Arrival.objects.filter(pk__in=arrival_ids).update(
            state=Arrival.State.HANDED_OVER, updated_at=now
        )
        minutes = int((now - (transfer.departed_at or now)).total_seconds() // 60)
        audit(actor, transfer, "entry.transfer_hand_over", minutes=minutes)
        ends = [p.arrival.measures_end for p in passengers if p.arrival.measures_end]
        categories = {
            QUARANTINE_CATEGORY.get(p.arrival.category, DEFAULT_QUARANTINE_CATEGORY)
            for p in passengers
        }
        events.publish(
            "transfer.handed_over",
            transfer_id=transfer.pk,
            person_ids=[p.person_id for p in passengers],
            arrival_ids=arrival_ids,
            destination_kind=transfer.destination_kind,
            destination_id=transfer.destination_id,
            at=now.isoformat(),
            category=categories.pop() if len(categories) == 1 else DEFAULT_QUARANTINE_CATEGORY,
            planned_end=max(ends).isoformat() if ends else None,
            actor=actor,
        )
    return transfer


def transfers_escalate(*, now: dt.datetime | None = None) -> int:
    """Mark every departed transfer past its window (one statement) and audit them."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Transfer.objects.filter(
                state=Transfer.State.DEPARTED, escalated_at__isnull=True, due_at__lt=now
            ).values_list("pk", "scope_path")
        )
        if not ids:
            return 0
        Transfer.objects.filter(pk__in=[i for i, _p in ids]).update(escalated_at=now)
        audit_record_many(
            actor=None,
            action="entry.transfer_escalate",
            entries=[
                {"object_type": "entry.transfer", "object_id": i, "scope_path": p} for i, p in ids
            ],
        )
    return len(ids)


def handoff_accept(*, actor: Actor, handoff_id: int) -> HomeHandoff:
    """The home community's grid worker takes over a home quarantine or monitoring."""
    permissions.require(actor, "entry.handoff")
    with transaction.atomic():
        handoff = HomeHandoff.objects.select_for_update().filter(pk=handoff_id).first()
        if handoff is None or not permissions.in_scope(actor, handoff.scope_path):
            raise NotFound()
        if handoff.state == HomeHandoff.State.ACCEPTED:
            raise Conflict(_("This hand-off was already taken over."), code="already_accepted")
        handoff.state = HomeHandoff.State.ACCEPTED
        handoff.accepted_by = acting_user(actor)
        handoff.accepted_at = timezone.now()
        handoff.save(update_fields=["state", "accepted_by", "accepted_at", "updated_at"])
        audit(actor, handoff, "entry.handoff_accept", person_id=handoff.person_id)
    return handoff
