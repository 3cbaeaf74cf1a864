"""Reminder SMS batches to the untested of a round (through notify's batches:
dedup per person and round, quiet hours, rate limit, opt-out, delivery status)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.errors import ValidationFailed
from fangkong.core.selectors import access_jurisdiction_by_id
from fangkong.core.types import Actor
from fangkong.screening.models import Round
from fangkong.screening.selectors import access_round_by_id
from fangkong.screening.selectors.coverage import untested_for

PURPOSE = "screening_reminder"


def reminders_send(
    *, actor: Actor, round_id: int, node_id: int, rate_per_minute: int | None = None
) -> Any:
    """Queue one reminder per untested person under ``node_id`` in one action; the
    worker sends them. Asking again reaches only people not yet reminded."""
    from fangkong.notify.services import batch_create

    permissions.require(actor, "screening.remind")
    rnd = access_round_by_id(actor, round_id, capability="screening.remind")
    if rnd.target == Round.Target.ARRIVALS:
        raise ValidationFailed(
            fields={"round_id": _("An arrival-test round has nobody untested to remind.")}
        )
    node = access_jurisdiction_by_id(actor, node_id)
    people = untested_for(actor, rnd, node)
    return batch_create(
        actor=actor,
        purpose=PURPOSE,
        template_code="registry_notice",
        context={
            "text": _(
                "you have not yet been tested in the screening round “%(round)s”. "
                "Please visit a sampling site before %(end)s."
            )
            % {"round": rnd.name, "end": rnd.ends_at.strftime("%Y-%m-%d %H:%M")}
        },
        people=people,
        rate_per_minute=rate_per_minute,
        dedup_key=round_dedup_key(rnd),
    )


def round_dedup_key(rnd: Any) -> str:
    """One reminder per person and round: the key of a round's reminder batches."""
    return f"screening-round-{rnd.pk}"
