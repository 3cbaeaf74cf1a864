"""Four eyes: a change that needs a second person gets a second person.

One rule for every four-eyes action (manual status changes, single and bulk;
zone declarations, changes and lifting; portal publishing; reviews of held lab
reports): the account that decides is neither the account that asked nor an
account *linked* to it.

Two accounts are linked when one of them provisioned the other — created it
(audit action ``staff.create``) or changed its roles (``staff.roles``) — directly
or through a chain: A created B and B created C links A, B and C, whichever of
them asks and whichever decides. The chain is read from the audit trail, which
is append-only, so it cannot be hidden after the fact. A person who manages
staff could otherwise give themselves a second pair of eyes by creating one.

Accounts merely created by the same administrator are not linked (in most
deployments one administrator creates everyone); that is what the separation of
roles is for: holders of ``staff.manage`` hold no deciding capability
(``permissions.SECOND_PERSON_CAPABILITIES``, ``permissions.separation_conflict``),
and nobody grants a capability they lack, so a staff manager cannot create an
account that decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from fangkong.core.errors import PermissionDenied
from fangkong.core.models import AuditEntry
from fangkong.core.types import Actor

#: Audit actions by which one account provisions another (``object_id`` is the
#: provisioned account, ``actor`` the provisioning one).
PROVISIONING_ACTIONS = ("staff.create", "staff.roles")


LINKED_CODE = "linked_account"
LINKED_MESSAGE = gettext_lazy(
    "A second person must decide: your account and the requester's are linked "
    "(one of them created the other or changed its roles)."
)


def _user_type() -> str:
    return str(get_user_model()._meta.label_lower)


def provisioners_of(user_ids: Iterable[int]) -> set[int]:
    """Every account that created the given accounts or changed their roles,
    and the accounts that provisioned those, up to the first accounts (one
    indexed query per level of the chain)."""
    found: set[int] = set()
    frontier = {int(u) for u in user_ids}
    seen = set(frontier)
    object_type = _user_type()
    while frontier:
        rows = (
            AuditEntry.objects.filter(
                object_type=object_type,
                object_id__in=[str(u) for u in sorted(frontier)],
                action__in=PROVISIONING_ACTIONS,
                actor__isnull=False,
            )
            .values_list("actor_id", flat=True)
            .distinct()
        )
        frontier = {int(a) for a in rows} - seen
        seen |= frontier
        found |= frontier
    return found


def linked(first_id: int, second_id: int) -> bool:
    """True when the two accounts are one, or one provisioned the other
    (directly or through a chain of provisioned accounts)."""
    if first_id == second_id:
        return True
    return second_id in provisioners_of([first_id]) or first_id in provisioners_of([second_id])


def linked_pairs(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs of ``pairs`` that are linked (each account's chain read once)."""
    pairs = list(pairs)
    chains: dict[int, set[int]] = {}
    for uid in {u for pair in pairs for u in pair}:
        chains[uid] = provisioners_of([uid])
    return {(a, b) for a, b in pairs if a == b or b in chains[a] or a in chains[b]}


def require_second_person(
    *, actor: Actor, first_id: int | None, own_message: Any, own_code: str
) -> None:
    """Refuse the decision of ``actor`` on a change asked by ``first_id``: when
    they are the same account (``own_code``) or linked accounts (``linked_account``).
    A change asked by the system itself (``first_id`` None) has no first person."""
    if first_id is None:
        return
    actor_id = getattr(actor, "pk", None)
    if actor_id is None:
        raise PermissionDenied()
    if actor_id == first_id:
        raise PermissionDenied(own_message, code=own_code)
    if linked(first_id, actor_id):
        raise PermissionDenied(LINKED_MESSAGE, code=LINKED_CODE)
