"""Domain facts: the one way for a write in one app to cause writes in another.

An app that owns a fact (a case confirmed, a zone lifted, a tube positive) calls
``publish("case.confirmed", case_id=..., actor=actor)`` inside its service
transaction; apps that react (status, notify, investigation ...) register
handlers in their ``AppConfig.ready`` with ``subscribe``. The publisher knows
nobody who listens.

Delivery (an outbox, ``core.models.Fact``):

- ``publish`` writes the fact in the publisher's transaction. A rolled-back
  write publishes nothing; a committed one keeps its fact whatever a handler
  does later.
- After the commit (``transaction.on_commit``) each subscriber runs in its own
  transaction, facts in the order they were published (a fact published by a
  handler is delivered after the one being delivered), handlers in the order
  they subscribed.
- A handler that raises has its transaction rolled back; the error is logged
  with its traceback and recorded on the fact (``attempts``, ``last_error``),
  and the minute job ``core.jobs.facts_retry`` runs it again with a growing
  pause. The other handlers of the fact are not held back, and the publisher's
  committed write is not undone.
- Each successful run is recorded in the handler's transaction
  (``FactDelivery``, unique per fact and handler): a retry runs only the
  handlers that have not succeeded. Delivery is still *at least once* for what
  a handler does outside the database (a message queued after its commit, a
  handler run by two processes at once), so every handler must be idempotent:
  key what it creates by the fact's ids (a stay keyed ``transfer:<id>:<person>``,
  a case "already open", a reason of that source).

Payloads are keyword arguments that must survive JSON: ids, numbers, strings,
ISO dates and times (``dt.date.isoformat()``), lists and dicts of those. The one
exception is ``actor``: the user who caused the fact (or ``None`` for a job) is
stored as their id and handed to handlers as the user again.

Facts, payloads, publishers and listeners are listed in ``docs/events.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import traceback
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangkong.core.types import Actor, acting_user

Handler = Callable[..., None]

logger = logging.getLogger(__name__)

_handlers: dict[str, list[Handler]] = defaultdict(list)

# How long the retry job waits after a failed delivery (doubling, at most an
# hour), and how long after publication it takes up a fact whose delivery after
# commit never happened (the process stopped in between).
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=1)


def subscribe(name: str, handler: Handler) -> None:
    """Register ``handler(**payload)`` for the fact ``name`` (idempotent)."""
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers.get(name, []):
        _handlers[name].remove(handler)


def subscribers(name: str) -> list[Handler]:
    return list(_handlers.get(name, ()))


def handler_key(handler: Handler) -> str:
    """The name a handler's deliveries are recorded under (module and function)."""
    module = getattr(handler, "__module__", "") or ""
    name = getattr(handler, "__qualname__", None) or repr(handler)
    return f"{module}.{name}"[:200]


def _actor_id(actor: Actor) -> int | None:
    user = acting_user(actor)
    return None if user is None else int(user.pk)


def publish(name: str, **payload: Any) -> int:
    """Record the fact ``name`` with its payload in the current transaction; its
    subscribers run after the commit. Returns the fact's id.

    Raises ``TypeError`` when the payload (besides ``actor``) is not plain JSON."""
    from fangkong.core.models import Fact

    stored = dict(payload)
    if "actor" in stored:
        stored["actor"] = _actor_id(stored["actor"])
    try:
        json.dumps(stored, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The payload of fact {name!r} must be plain JSON (ids, strings, ISO dates): {exc}"
        ) from exc
    fact = Fact.objects.create(
        name=name, payload=stored, next_attempt_at=timezone.now() + FIRST_RETRY
    )
    _pending().append(fact.pk)
    if stored.get("actor") is not None:
        # Delivered in this thread after the commit, the handlers get the same
        # user object (its staff profile and roles already read), not a reload.
        _actors()[fact.pk] = payload["actor"]
    _schedule(fact.pk)
    return int(fact.pk)


class _AfterCommit:
    """The callback that delivers the thread's published facts after a commit (a
    class so the test suite can recognise it among other on-commit callbacks)."""

    def __init__(self, fact_id: int) -> None:
        self.fact_id = fact_id

    def __call__(self) -> None:
        _drain()


def _schedule(fact_id: int) -> None:
    transaction.on_commit(_AfterCommit(fact_id))


# Facts published by this thread and not yet delivered after a commit, in
# publication order. The first on-commit callback of a transaction delivers them
# all, and facts that handlers publish meanwhile join the end of the line, so
# the order of delivery is the order of publication. An id whose transaction was
# rolled back is skipped (its row does not exist).
_local = threading.local()


def _pending() -> list[int]:
    pending: list[int] | None = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = []
    return pending


def _actors() -> dict[int, Any]:
    """The publishing thread's actors of its pending facts, by fact id."""
    actors: dict[int, Any] | None = getattr(_local, "actors", None)
    if actors is None:
        actors = _local.actors = {}
    return actors


def _drain() -> None:
    if getattr(_local, "draining", False):
        return  # the running delivery loop takes it up
    pending = _pending()
    _local.draining = True
    try:
        while pending:
            fact_id = pending.pop(0)
            try:
                deliver(fact_id)
            except Exception:  # the fact stays undelivered: the retry job takes it up
                logger.exception(
                    "Delivery of fact #%s failed; the retry job will try again", fact_id
                )
    finally:
        _local.draining = False


def _payload_for_handlers(payload: dict[str, Any], known: Any = None) -> dict[str, Any]:
    """The payload as handlers take it: ``actor`` the user again (``known``, the
    publisher's own object when delivered in its thread, or read by id)."""
    kwargs = dict(payload)
    if "actor" in kwargs:
        actor_id = kwargs["actor"]
        if actor_id is None:
            kwargs["actor"] = None
        elif known is not None and known.pk == actor_id:
            kwargs["actor"] = known
        else:
            kwargs["actor"] = get_user_model().objects.filter(pk=actor_id).first()
    return kwargs


def deliver(fact_id: int) -> bool:
    """Run the handlers of one fact that have not succeeded yet, each in its own
    transaction. Returns True when all have now succeeded."""
    from fangkong.core.models import Fact, FactDelivery

    known = _actors().pop(fact_id, None)
    fact = Fact.objects.filter(pk=fact_id).first()
    if fact is None or fact.delivered_at is not None:
        return True
    done = set(FactDelivery.objects.filter(fact_id=fact_id).values_list("handler", flat=True))
    kwargs = _payload_for_handlers(fact.payload, known)
    errors: list[str] = []
    for handler in subscribers(fact.name):
        key = handler_key(handler)
        if key in done:
            continue
        try:
            with transaction.atomic():
                handler(**kwargs)
                FactDelivery.objects.create(fact_id=fact_id, handler=key)
        except Exception as exc:  # recorded on the fact and retried, never dropped
            logger.exception(
                "Handler %s failed on fact %s #%s (attempt %s)",
                key,
                fact.name,
                fact_id,
                fact.attempts + 1,
            )
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            errors.append(f"{key}: {detail}")
    now = timezone.now()
    attempts = fact.attempts + 1
    if errors:
        pause = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
        Fact.objects.filter(pk=fact_id).update(
            attempts=attempts, last_error="\n".join(errors), next_attempt_at=now + pause
        )
        return False
    Fact.objects.filter(pk=fact_id).update(attempts=attempts, delivered_at=now, last_error="")
    return True


def deliver_due(*, limit: int = 500) -> int:
    """The retry job's work: deliver facts not yet delivered whose time has come
    (failed handlers, or deliveries after commit that never ran), oldest first.
    Returns how many are now delivered."""
    from fangkong.core.models import Fact

    due = list(
        Fact.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=timezone.now())
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for fact_id in due if deliver(fact_id))
