"""Arrivals: reported before travelling (portal) and registered at a checkpoint.

One trip is one row: a person registered again for the same trip (a second scan,
a self-report then the checkpoint) is merged into the arrival already there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import events, permissions
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor, acting_user
from fangkong.entry.models import Arrival, ArrivalTest, Checkpoint, PlaceReview
from fangkong.entry.places import normalise_code
from fangkong.entry.services.classify import classify_one
from fangkong.entry.services.common import audit, itinerary_clean, plate_clean
from fangkong.screening.selectors import shared as screening_shared

MERGE_DAYS = 1  # a registration within a day of a reported arrival is that trip


def _text(value: str, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


@transaction.atomic
def arrival_self_report(
    *,
    person_id: int | None,
    origin: str,
    arrival_date: dt.date,
    destination: str,
    transport_text: str = "",
    itinerary: list[dict[str, Any]] | None = None,
) -> Arrival:
    """A traveller's report before arriving (portal self-service). Reported again
    for the same day, the report is updated, not duplicated."""
    errors: dict[str, str] = {}
    if not _text(origin, 200):
        errors["from_place"] = _("Say where you are coming from.")
    if not _text(destination, 200):
        errors["destination"] = _("Say where you will stay in the city.")
    if arrival_date < timezone.localdate() - dt.timedelta(days=1):
        errors["arrival_date"] = _("The arrival date is in the past.")
    try:
        stops = itinerary_clean(itinerary, arrival_on=arrival_date)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        stops = []
    if errors:
        raise ValidationFailed(fields=errors)
    scope = ""
    if person_id is not None:
        scope = str(Person.objects.filter(pk=person_id).values_list("scope_path", flat=True).get())
    existing = (
        Arrival.objects.select_for_update()
        .filter(person_id=person_id, expected_on=arrival_date, state=Arrival.State.REPORTED)
        .first()
        if person_id is not None
        else None
    )
    arrival = existing or Arrival(
        person_id=person_id, source=Arrival.Source.SELF_REPORT, scope_path=scope
    )
    arrival.expected_on = arrival_date
    arrival.origin = _text(origin, 200)
    arrival.destination = _text(destination, 200)
    arrival.transport_text = _text(transport_text, 60)
    arrival.itinerary = stops
    arrival.save()
    audit(None, arrival, "entry.arrival_report", person_id=person_id, origin=arrival.origin)
    if person_id is not None:
        classify_one(arrival, actor=None)
    return arrival


@dataclass
class ArrivalData:
    """An arrival registered at a checkpoint (document scanned or typed)."""

    doc_type: str
    doc_number: str
    name: str
    origin: str
    itinerary: list[dict[str, Any]] = field(default_factory=list)
    phone: str = ""
    origin_code: str = ""
    transport: str = ""
    transport_number: str = ""
    seat: str = ""
    plate: str = ""
    traveller_class: str = "traveller"
    cargo: str = ""
    truck_destination: str = ""
    stay_hours: int | None = None
    destination: str = ""
    home_id: int | None = None
    language: str = "zh-hans"


def _person(actor: Actor, data: ArrivalData) -> Person:
    from fangkong.core.identity import normalise_document
    from fangkong.core.selectors import person_find_by_document
    from fangkong.core.services import PersonData, person_create

    doc = normalise_document(data.doc_type, data.doc_number)
    person = person_find_by_document(doc.doc_type, doc.number)
    if person is None:
        return person_create(
            actor=actor,
            data=PersonData(
                doc_type=doc.doc_type,
                doc_number=doc.number,
                name=data.name.strip(),
                phone=data.phone,
                language=data.language,
            ),
        )
    if person.name.strip() != data.name.strip():
        raise ValidationFailed(
            fields={
                "name": _("This document is registered under another name; check the document.")
            }
        )
    return person


def _clean(data: ArrivalData, today: dt.date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if not data.name.strip():
        errors["name"] = _("Give the name on the document.")
    values["origin"] = _text(data.origin, 200)
    try:
        values["origin_code"] = normalise_code(data.origin_code)
    except ValueError:
        errors["origin_code"] = _("An administrative code has 2 to 12 digits.")
    if data.traveller_class not in Arrival.TravellerClass.values:
        errors["traveller_class"] = _("Unknown kind of traveller.")
    if data.transport and data.transport not in Arrival.Transport.values:
        errors["transport"] = _("Unknown means of transport.")
    driver = data.traveller_class != Arrival.TravellerClass.TRAVELLER
    try:
        values["plate"] = plate_clean(data.plate, required=driver)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if driver and not _text(data.cargo, 100):
        errors["cargo"] = _("Say what the truck carries.")
    if data.stay_hours is not None and not 0 <= data.stay_hours <= 24 * 60:
        errors["stay_hours"] = _("Give the expected stay in hours (up to 60 days).")
    try:
        values["itinerary"] = itinerary_clean(data.itinerary, arrival_on=today)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    values["home"] = None
    if data.home_id is not None:
        home = Jurisdiction.objects.filter(pk=data.home_id, level="building").first()
        if home is None:
            errors["home_id"] = _("Choose the building of the address in the city.")
        values["home"] = home
    if errors:
        raise ValidationFailed(fields=errors)
    values.update(
        transport=data.transport or (Arrival.Transport.TRUCK if driver else ""),
        transport_number=_text(data.transport_number, 20).upper(),
        seat=_text(data.seat, 12).upper(),
        traveller_class=data.traveller_class,
        cargo=_text(data.cargo, 100),
        truck_destination=_text(data.truck_destination, 200),
        stay_hours=data.stay_hours,
        destination=_text(data.destination, 200),
    )
    return values


def arrival_register(
    *, actor: Actor, checkpoint_id: int, data: ArrivalData
) -> tuple[Arrival, bool]:
    """Register a person arriving at a checkpoint and classify them. Returns the
    arrival and whether it was merged into one already there (a self-report, or
    the same trip registered twice)."""
    permissions.require(actor, "entry.register")
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id, active=True).first()
    if checkpoint is None or not permissions.in_scope(actor, checkpoint.scope_path):
        raise NotFound()
    today = timezone.localdate()
    values = _clean(data, today)
    with transaction.atomic():
        person = _person(actor, data)
        existing = (
            Arrival.objects.select_for_update()
            .filter(
                person=person,
                expected_on__gte=today - dt.timedelta(days=MERGE_DAYS),
                expected_on__lte=today + dt.timedelta(days=MERGE_DAYS),
            )
            .exclude(state=Arrival.State.CLOSED)
            .order_by("-expected_on", "-id")
            .first()
        )
        merged = existing is not None
        if not merged and not values["origin"]:
            raise ValidationFailed(fields={"origin": _("Say where the traveller comes from.")})
        arrival = existing or Arrival(person=person, source=Arrival.Source.ON_SITE)
        if not values["itinerary"] and existing is not None:
            values["itinerary"] = existing.itinerary  # the report's itinerary stands
        for key, value in values.items():
            if value in ("", None) and merged:
                continue  # a blank field keeps what the report said
            setattr(arrival, key, value)
        arrival.checkpoint = checkpoint
        arrival.scope_path = checkpoint.scope_path
        arrival.expected_on = today
        if arrival.state == Arrival.State.REPORTED:
            arrival.state = Arrival.State.ARRIVED
        arrival.arrived_at = arrival.arrived_at or timezone.now()
        arrival.registered_by = acting_user(actor)
        arrival.save()
        audit(
            actor,
            arrival,
            "entry.arrival_merge" if merged else "entry.arrival_register",
            person_id=person.pk,
            checkpoint=checkpoint.pk,
        )
        classify_one(arrival, actor=actor)
    return arrival, merged


def arrival_test_sample(*, actor: Actor, arrival_id: int, barcode: str) -> ArrivalTest:
    """The arrival test taken at the checkpoint (落地检): the next due test of the
    arrival is sampled into the tube ``barcode``. The sample becomes a screening
    tube of the district's arrival-test round (``arrival.sampled``): the lab's
    result comes back through screening like any other. A tube screening would
    not take (another round's, closed, full, single for a pooled test...) is
    refused here, with nothing written."""
    permissions.require(actor, "entry.register")
    barcode = _text(barcode, 64)
    if not barcode:
        raise ValidationFailed(fields={"barcode": _("Scan the tube.")})
    with transaction.atomic():
        arrival = _access(actor, arrival_id, lock=True)
        if arrival.person_id is None:
            raise ValidationFailed(
                fields={"barcode": _("Register the traveller at the checkpoint first.")}
            )
        test = (
            ArrivalTest.objects.select_for_update()
            .filter(arrival=arrival, state=ArrivalTest.State.DUE)
            .order_by("number")
            .first()
        )
        if test is None:
            raise Conflict(_("This arrival has no test due."), code="no_test_due")
        pool_size = 1 if test.single_tube else test.pool_size
        refusal = screening_shared.arrival_tube_refusal(
            barcode, arrival.person_id, pool_size=pool_size
        )
        if refusal is not None:
            raise Conflict(fields={refusal.field: refusal.message}, code=refusal.code)
        test.state = ArrivalTest.State.SAMPLED
        test.tube_barcode = barcode
        test.sampled_at = timezone.now()
        test.save(update_fields=["state", "tube_barcode", "sampled_at", "updated_at"])
        audit(actor, arrival, "entry.arrival_test", person_id=arrival.person_id, tube=barcode)
        checkpoint = arrival.checkpoint
        events.publish(
            "arrival.sampled",
            arrival_id=arrival.pk,
            test_id=test.pk,
            number=test.number,
            person_id=arrival.person_id,
            barcode=barcode,
            pool_size=pool_size,
            sampled_at=test.sampled_at.isoformat(),
            scope_path=checkpoint.scope_path if checkpoint is not None else arrival.scope_path,
            place=checkpoint.name if checkpoint is not None else "",
            actor=actor,
        )
    return test


def place_review_resolve(*, actor: Actor, review_id: int, code: str) -> Arrival:
    """A reviewer gives the code of a place found neither by code nor by name; the
    arrival is classified again."""
    from fangkong.entry.places import known_code

    permissions.require(actor, "entry.lists")
    try:
        clean = normalise_code(code)
    except ValueError:
        clean = ""
    if not clean or not known_code(clean):
        raise ValidationFailed(fields={"code": _("Give the administrative code of the place.")})
    with transaction.atomic():
        review = PlaceReview.objects.select_for_update().filter(pk=review_id).first()
        if review is None or not permissions.in_scope(actor, review.scope_path):
            raise NotFound()
        if review.state == PlaceReview.State.RESOLVED:
            raise Conflict(_("This place was already reviewed."), code="already_reviewed")
        arrival = Arrival.objects.select_for_update().get(pk=review.arrival_id)
        stops = list(arrival.itinerary)
        if review.stop < len(stops):
            stops[review.stop] = {**stops[review.stop], "code": clean}
        arrival.itinerary = stops
        arrival.reviewed_by = acting_user(actor)
        arrival.save(update_fields=["itinerary", "reviewed_by", "updated_at"])
        review.state = PlaceReview.State.RESOLVED
        review.resolved_code = clean
        review.resolved_by = acting_user(actor)
        review.save(update_fields=["state", "resolved_code", "resolved_by", "updated_at"])
        audit(actor, review, "entry.place_review", person_id=arrival.person_id, code=clean)
        classify_one(arrival, actor=actor)
    return arrival


def _access(actor: Actor, arrival_id: int, *, lock: bool = False) -> Arrival:
    qs = Arrival.objects.select_for_update() if lock else Arrival.objects
    arrival = qs.filter(pk=arrival_id).first()
    if arrival is None or not permissions.in_scope(actor, arrival.scope_path):
        raise NotFound()
    return arrival
