"""Tiered rolling activation (梯次启用).

Sites are queued by tier within an area (a city: its pool). When the rooms in
use in the pool's active sites pass the activation rule's threshold (data),
the next site of the queue is proposed to the command: a standby site (already
accepted) to activate, else the first site in reserve to start vacating. The
evaluation runs after every allocation (after commit) and every ten minutes;
an open proposal whose pool fell back below the threshold becomes stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Jurisdiction, path_upper_bound
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import ActivationProposal, Room, Site, SiteTransition
from fangkong.quarantine.services import rules

S = Site.State


@dataclass(frozen=True)
class PoolOccupancy:
    pool_id: int
    pool_path: str
    pool_name: str
    active_sites: int
    usable_rooms: int  # rooms of active sites not under maintenance
    occupied_rooms: int
    threshold_percent: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.occupied_rooms / self.usable_rooms) if self.usable_rooms else 0

    @property
    def over_threshold(self) -> bool:
        if self.threshold_percent is None:
            return False
        if not self.usable_rooms:
            return self.active_sites == 0 and False
        return 100 * self.occupied_rooms >= self.threshold_percent * self.usable_rooms


def pool_occupancy(pool: Jurisdiction) -> PoolOccupancy:
    rooms = Room.objects.filter(
        site__state=S.ACTIVE,
        scope_path__gte=pool.path,
        scope_path__lt=path_upper_bound(pool.path),
    ).aggregate(
        usable=Count("id", filter=~Q(status=Room.Status.MAINTENANCE)),
        occupied=Count("id", filter=Q(status=Room.Status.OCCUPIED)),
        sites=Count("site_id", distinct=True),
    )
    rule = rules.activation_rule(pool.path, timezone.localdate())
    return PoolOccupancy(
        pool_id=pool.pk,
        pool_path=pool.path,
        pool_name=pool.name,
        active_sites=int(rooms["sites"] or 0),
        usable_rooms=int(rooms["usable"] or 0),
        occupied_rooms=int(rooms["occupied"] or 0),
        threshold_percent=rule.occupancy_threshold_percent if rule else None,
    )


def next_in_queue(pool: Jurisdiction) -> Site | None:
    """The next site to bring in: standby (accepted) first, else reserve, by tier."""
    sites = Site.objects.filter(
        scope_path__gte=pool.path, scope_path__lt=path_upper_bound(pool.path)
    )
    return (
        sites.filter(state=S.STANDBY).order_by("tier", "id").first()
        or sites.filter(state=S.RESERVE).order_by("tier", "id").first()
    )


def tiers_evaluate(pool: Jurisdiction) -> ActivationProposal | None:
    """Propose the next site when the pool passes its threshold; returns the
    open proposal (new or existing), or None."""
    occ = pool_occupancy(pool)
    with transaction.atomic():
        open_ = (
            ActivationProposal.objects.select_for_update()
            .filter(pool=pool, state=ActivationProposal.State.OPEN)
            .first()
        )
        if not occ.over_threshold:
            if open_ is not None:
                open_.state = ActivationProposal.State.STALE
                open_.save(update_fields=["state", "updated_at"])
            return None
        if open_ is not None:
            return open_
        site = next_in_queue(pool)
        rule = rules.activation_rule(pool.path, timezone.localdate())
        if site is None or rule is None:
            return None
        try:
            with transaction.atomic():
                proposal = ActivationProposal.objects.create(
                    site=site,
                    pool=pool,
                    scope_path=pool.path,
                    occupied_rooms=occ.occupied_rooms,
                    total_rooms=occ.usable_rooms,
                    threshold_percent=occ.threshold_percent or 0,
                    rule=rule,
                )
        except IntegrityError:
            # A parallel evaluation of the same pool proposed first (one open
            # proposal per pool is a database constraint): that one stands.
            return ActivationProposal.objects.filter(
                pool=pool, state=ActivationProposal.State.OPEN
            ).first()
        audit_record(
            actor=None,
            action="quarantine.tier_proposed",
            obj=proposal,
            scope_path=pool.path,
            changes={"site": [None, site.name], "occupancy": [None, occ.percent]},
        )
        return proposal


def tiers_evaluate_for_paths(paths: Iterable[str]) -> int:
    """Evaluate the pools above these paths (after an allocation committed)."""
    pools: dict[int, Jurisdiction] = {}
    for path in paths:
        node = rules.pool_node(path)
        if node is not None:
            pools[node.pk] = node
    return sum(1 for pool in pools.values() if tiers_evaluate(pool) is not None)


def tiers_evaluate_all() -> int:
    """Every pool with sites (the periodic job)."""
    paths = set(Site.objects.exclude(state=S.CLOSED).values_list("scope_path", flat=True))
    return tiers_evaluate_for_paths(paths)


@transaction.atomic
def proposal_decide(
    *, actor: Actor, proposal_id: int, accept: bool, note: str = ""
) -> ActivationProposal:
    """The command accepts (a standby site becomes active, a reserve site starts
    vacating) or dismisses a tier activation proposal."""
    permissions.require(actor, "quarantine.activate")
    proposal = (
        ActivationProposal.objects.select_for_update()
        .select_related("site")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or not permissions.in_scope(actor, proposal.scope_path):
        raise NotFound()
    if proposal.state != ActivationProposal.State.OPEN:
        raise Conflict(_("This proposal was already decided."), code="already_decided")
    if not accept and not note.strip():
        raise ValidationFailed(fields={"note": _("Say why the proposal is dismissed.")})
    site = Site.objects.select_for_update().get(pk=proposal.site_id)
    if accept:
        target = {S.STANDBY: S.ACTIVE, S.RESERVE: S.VACATING}.get(S(site.state))
        if target is None:
            raise Conflict(
                _("%(site)s is no longer waiting in the queue (it is “%(state)s”).")
                % {"site": site.name, "state": S(site.state).label},
                code="site_moved_on",
            )
        if target == S.ACTIVE and site.accepted_at is None:
            raise Conflict(
                _("The site has not passed its acceptance inspection yet."), code="not_accepted"
            )
        previous = site.state
        site.state = target
        site.state_since = timezone.now()
        site.save(update_fields=["state", "state_since", "updated_at"])
        SiteTransition.objects.create(
            site=site,
            from_state=previous,
            to_state=target,
            actor=acting_user(actor),
            reason=_("Tier activation proposal accepted."),
        )
        audit_record(
            actor=actor,
            action="quarantine.site_transition",
            obj=site,
            scope_path=site.scope_path,
            changes={"site_state": [previous, target]},
            reason=note,
        )
    proposal.state = (
        ActivationProposal.State.ACCEPTED if accept else ActivationProposal.State.DISMISSED
    )
    proposal.decided_by = acting_user(actor)
    proposal.decided_at = timezone.now()
    proposal.decision_note = note.strip()
    proposal.save()
    audit_record(
        actor=actor,
        action="quarantine.tier_decide",
        obj=proposal,
        scope_path=proposal.scope_path,
        changes={"proposal_state": [ActivationProposal.State.OPEN, proposal.state]},
        reason=note,
    )
    return proposal
