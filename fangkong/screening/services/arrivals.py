"""Arrival tests (落地检) as screening tubes.

Entry control takes the sample at its checkpoint and publishes ``arrival.sampled``;
this service puts the sample in a tube of the district's standing arrival-test
round, so the tube goes through the same custody, labs, results and positive
follow-up as every other tube (a positive single tube opens a suspected case, a
positive pool gives its members a status reason). Entry reads the results back
through ``screening.selectors.shared``.

The tube is opened on the first sample scanned into its barcode, holding as many
people as entry's rule says (one for a single tube: higher-risk arrivals; the
rule's pool size otherwise, at most the largest pooling option). A tube closes
when it is full (a single tube at once); a pooled tube the checkpoint does not
fill is closed by the district's samplers on the screening pages, as any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.types import Actor, acting_user
from fangkong.screening.models import PoolingOption, Round, Tube, TubeMember
from fangkong.screening.services.sampling import _after_close, _clean_barcode, _twice_msg

#: The tree path of a district: province, city, district (three 4-character segments).
DISTRICT_PATH = 12
#: How long a standing arrival-test round runs before the next one is opened (a
#: container for tubes, not a rule: its tubes' capacities come from entry's rules).
ROUND_DAYS = 365


@dataclass(frozen=True)
class ArrivalTube:
    """Why a barcode cannot take this arrival's sample (None: it can)."""

    field: str
    message: str
    code: str


def arrival_tube_refusal(barcode: str, person_id: int, *, pool_size: int) -> ArrivalTube | None:
    """Whether the tube ``barcode`` can take this person's arrival test: a new
    barcode can; a tube of the arrival-test rounds can while it is open, pooled
    when the test is pooled (``pool_size`` above 1), not full and without this
    person. The one rule, used by entry before it records the sample and by the
    handler that files it."""
    try:
        code = _clean_barcode(barcode)
    except ValidationFailed as exc:
        return ArrivalTube("barcode", str(exc.fields["barcode"]), "invalid")
    tube = Tube.objects.filter(barcode=code).select_related("round").first()
    if tube is None:
        return None
    return _refusal(tube, person_id, pool_size=pool_size)


def _refusal(tube: Tube, person_id: int, *, pool_size: int) -> ArrivalTube | None:
    if tube.round.target != Round.Target.ARRIVALS:
        return ArrivalTube(
            "barcode", _("This tube belongs to another screening round."), "barcode_used"
        )
    if TubeMember.objects.filter(tube=tube, person_id=person_id).exists():
        return ArrivalTube("barcode", _twice_msg(), "person_twice")
    if tube.state != Tube.State.OPEN:
        return ArrivalTube("barcode", _("This tube is closed; use a new tube."), "tube_closed")
    if pool_size <= 1 or tube.capacity == 1:
        return ArrivalTube(
            "barcode",
            _("The arrival test is a single tube: use a new tube for this person."),
            "single_tube",
        )
    if tube.member_count >= tube.capacity:
        return ArrivalTube(
            "barcode",
            _("This tube is full (%(n)s people); use a new tube.") % {"n": tube.capacity},
            "tube_full",
        )
    return None


def _pool_ratio() -> int:
    """The round's most people a tube: the largest pooling option in use."""
    ratios = PoolingOption.objects.filter(active=True).values_list("ratio", flat=True)
    return max(ratios, default=1)


def arrivals_round(scope_path: str, *, now: dt.datetime | None = None) -> Round:
    """The open arrival-test round of the district of ``scope_path``, opened when
    there is none (call inside a transaction)."""
    now = now or timezone.now()
    district = (
        Jurisdiction.objects.filter(path=scope_path[:DISTRICT_PATH]).first()
        or Jurisdiction.objects.filter(path=scope_path).first()
    )
    if district is None:
        raise NotFound(_("The checkpoint's area is not in the administrative tree."))
    found = (
        Round.objects.select_for_update()
        .filter(
            target=Round.Target.ARRIVALS,
            state=Round.State.OPEN,
            scope_path=district.path,
            ends_at__gt=now,
        )
        .order_by("-starts_at")
        .first()
    )
    if found is not None:
        return found
    # A round's name is data every reader sees: in the site's language, not the
    # language of whoever's scan opened it.
    with translation.override(settings.LANGUAGE_CODE):
        name = _("Arrival tests, %(area)s") % {"area": district.name_zh}
    rnd = Round.objects.create(
        name=name,
        scope_path=district.path,
        target=Round.Target.ARRIVALS,
        starts_at=now,
        ends_at=now + dt.timedelta(days=ROUND_DAYS),
        pooling_ratio=_pool_ratio(),
    )
    rnd.areas.set([district])
    audit_record(
        actor=None,
        action="screening.round.create",
        obj=rnd,
        scope_path=rnd.scope_path,
        changes={"target": [None, rnd.target], "pooling_ratio": [None, rnd.pooling_ratio]},
    )
    return rnd


def arrival_sample_record(
    *,
    actor: Actor,
    arrival_id: int,
    person_id: int,
    barcode: str,
    pool_size: int,
    sampled_at: dt.datetime,
    scope_path: str,
    place: str = "",
) -> Tube:
    """File an arrival test taken at a checkpoint in its tube (opened on its first
    sample). Idempotent: the same person in the same tube again changes nothing.
    A tube that cannot take the sample (used by another round, closed, full) is a
    conflict: the fact records it and is retried, and the checkpoint sees the test
    without a result."""
    code = _clean_barcode(barcode)
    user = acting_user(actor)
    with transaction.atomic():
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise NotFound(_("The arrival's person is not registered."))
        tube = Tube.objects.select_for_update().filter(barcode=code).first()
        if tube is not None and TubeMember.objects.filter(tube=tube, person=person).exists():
            return tube
        rnd = arrivals_round(scope_path, now=sampled_at)
        if tube is None:
            tube = Tube.objects.create(
                barcode=code,
                round=rnd,
                capacity=max(1, min(pool_size, rnd.pooling_ratio)),
                scope_path=scope_path,
                opened_by=user,
                opened_at=sampled_at,
            )
        else:
            refusal = _refusal(tube, person.pk, pool_size=pool_size)
            if refusal is not None:
                raise Conflict(fields={refusal.field: refusal.message}, code=refusal.code)
        again = TubeMember.objects.filter(round_id=tube.round_id, person=person).exists()
        TubeMember.objects.create(
            tube=tube,
            round_id=tube.round_id,
            person=person,
            person_scope_path=person.scope_path,
            sampled_at=sampled_at,
            sampled_by=user,
            repeat=again,
        )
        tube.member_count += 1
        fields = ["member_count", "updated_at"]
        if tube.member_count >= tube.capacity:
            tube.state = Tube.State.CLOSED
            tube.closed_at = sampled_at
            fields += ["state", "closed_at"]
        tube.save(update_fields=fields)
        if tube.state == Tube.State.CLOSED:
            _after_close(actor, [(tube.pk, tube.capacity, tube.closed_at)], place=place)
        audit_record(
            actor=actor,
            action="screening.arrival_sample",
            obj=tube,
            scope_path=tube.scope_path,
            person_id=person.pk,
            changes={"arrival": [None, arrival_id], "members": [None, tube.member_count]},
        )
    return tube
