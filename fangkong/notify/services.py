"""Writes of the notify app: queue notices and batches, edit templates, opt-outs.

Nothing here talks to a gateway. Services create ``Message`` rows inside the
caller's transaction and hand them to the Huey worker with
``transaction.on_commit`` (``jobs.py``), so a rolled-back request sends nothing
and a web request never waits for an SMS gateway.
"""

from __future__ import annotations

import array
import datetime as dt
import itertools
import logging
import re
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record, diff
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.models import Person, common_path
from fangkong.core.selectors import access_person_by_id, person_list_for
from fangkong.core.types import Actor, acting_user
from fangkong.notify import conf
from fangkong.notify.models import (
    ALL_PURPOSES,
    Batch,
    Message,
    MessageTemplate,
    OptOut,
    QuietHours,
)
from fangkong.notify.sql import insert_many
from fangkong.notify.templating import (
    missing_placeholders,
    person_renderer,
    render,
    validate_body,
)

logger = logging.getLogger(__name__)

FALLBACK_LANGUAGE = "zh-hans"
_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
MAX_CONTEXT_VALUE = 500
MAX_RATE = 60_000
_CHUNK = 2000  # people per insert round in a batch


# --- Validation helpers ---------------------------------------------------


def _clean_purpose(purpose: str, *, field: str = "purpose") -> str:
    purpose = (purpose or "").strip()
    if not _PURPOSE.match(purpose):
        raise ValidationFailed(
            fields={
                field: _(
                    "A purpose is a short code of lower-case letters, digits, - and _ "
                    "(e.g. screening_reminder)."
                )
            }
        )
    return purpose


def _clean_context(context: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (context or {}).items():
        if not isinstance(key, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$", key):
            raise ValidationFailed(
                fields={"context": _("“%(key)s” is not a placeholder name.") % {"key": key}}
            )
        text = "" if value is None else str(value)
        if len(text) > MAX_CONTEXT_VALUE:
            raise ValidationFailed(
                fields={
                    "context": _("The value of “%(key)s” has more than %(n)s characters.")
                    % {"key": key, "n": MAX_CONTEXT_VALUE}
                }
            )
        out[key] = text
    return out


def _clean_dedup_key(key: str) -> str:
    key = (key or "").strip()
    if len(key) > 80:
        raise ValidationFailed(
            fields={"dedup_key": _("A deduplication key has at most 80 characters.")}
        )
    return key


def _clean_rate(rate: int | None) -> int:
    if rate is None:
        return conf.rate_per_minute()
    if not 1 <= int(rate) <= MAX_RATE:
        raise ValidationFailed(
            fields={
                "rate_per_minute": _("The rate must be between 1 and %(max)s messages a minute.")
                % {"max": MAX_RATE}
            }
        )
    return int(rate)


# --- Templates ------------------------------------------------------------


def templates_for(code: str) -> dict[str, MessageTemplate]:
    """Active versions of template ``code`` by language; refuse an unknown code."""
    found = {t.language: t for t in MessageTemplate.objects.filter(code=code, active=True)}
    if not found:
        raise ValidationFailed(
            fields={"template_code": _("Unknown template “%(code)s”.") % {"code": code}}
        )
    return found


def _refuse_transactional(templates: Mapping[str, MessageTemplate]) -> None:
    """Staff may not send templates meant for the person's own requests: those pass
    opt-outs and quiet hours, so they would be a way around both."""
    if any(t.transactional for t in templates.values()):
        raise ValidationFailed(
            fields={"template_code": _("This template is only sent when the person asks for it.")}
        )


def template_for_language(
    templates: Mapping[str, MessageTemplate], language: str
) -> MessageTemplate:
    """The person's language, else Simplified Chinese, else whatever exists."""
    return (
        templates.get(language)
        or templates.get(FALLBACK_LANGUAGE)
        or templates[sorted(templates)[0]]
    )


def _check_context(
    templates: Mapping[str, MessageTemplate], languages: Iterable[str], context: Mapping[str, str]
) -> None:
    missing: list[str] = []
    for lang in set(languages):
        tpl = template_for_language(templates, lang)
        missing.extend(
            n for n in missing_placeholders(tpl.placeholders, context) if n not in missing
        )
    if missing:
        raise ValidationFailed(
            fields={
                "context": _("Missing value for placeholder(s): %(names)s.")
                % {"names": ", ".join(missing)}
            }
        )


def template_save(
    *,
    actor: Actor,
    code: str,
    language: str,
    body: str,
    description: str = "",
    transactional: bool | None = None,
    active: bool = True,
) -> MessageTemplate:
    """Create a template or save a new version of it; the old text stays in the audit."""
    permissions.require(actor, "notify.templates")
    errors: dict[str, str] = {}
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,59}$", code or ""):
        errors["code"] = _("A template code is made of lower-case letters, digits, - and _.")
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Unknown language “%(value)s”.") % {"value": language}
    names: list[str] = []
    try:
        names = validate_body(body)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        tpl = (
            MessageTemplate.objects.select_for_update().filter(code=code, language=language).first()
        )
        before: dict[str, Any] = {}
        if tpl is None:
            tpl = MessageTemplate(code=code, language=language, version=1)
        else:
            before = {
                "body": tpl.body,
                "description": tpl.description,
                "transactional": tpl.transactional,
                "active": tpl.active,
            }
            tpl.version += 1
        tpl.body = body
        tpl.placeholders = names
        tpl.description = description
        tpl.active = active
        if transactional is not None:
            tpl.transactional = transactional
        tpl.save()
        after = {
            "body": tpl.body,
            "description": tpl.description,
            "transactional": tpl.transactional,
            "active": tpl.active,
        }
        audit_record(
            actor=actor,
            action="notify.template_save",
            obj=tpl,
            changes={**diff(before, after), "version": [tpl.version - 1 or None, tpl.version]},
        )
    return tpl


# --- Quiet hours ----------------------------------------------------------


@dataclass(frozen=True)
class QuietWindow:
    start: dt.time
    end: dt.time
    tz: dt.tzinfo

    def release_time(self, now: dt.datetime) -> dt.datetime | None:
        """When quiet hours containing ``now`` end, or None if ``now`` is not quiet."""
        if self.start == self.end:
            return None
        local = now.astimezone(self.tz)
        t = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:
            quiet = self.start <= t < self.end
        else:  # across midnight, e.g. 22:00–07:00
            quiet = t >= self.start or t < self.end
            if t >= self.start:
                day += dt.timedelta(days=1)
        if not quiet:
            return None
        return dt.datetime.combine(day, self.end, tzinfo=self.tz)


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


class QuietHoursResolver:
    """Finds the quiet hours of a tree path: the deepest configured node wins."""

    def __init__(self) -> None:
        start, end, tz = conf.default_quiet_hours()
        self.default = QuietWindow(start, end, _zone(tz))
        rows = QuietHours.objects.select_related("jurisdiction").all()
        self.rules = sorted(
            ((r.jurisdiction.path, QuietWindow(r.start, r.end, _zone(r.time_zone))) for r in rows),
            key=lambda pair: -len(pair[0]),
        )

    def for_path(self, path: str) -> QuietWindow:
        for prefix, window in self.rules:
            if path.startswith(prefix):
                return window
        return self.default


# --- Queuing --------------------------------------------------------------


@dataclass
class _Plan:
    status: str
    skip_reason: str = ""
    not_before: dt.datetime | None = None


def _plan_for(
    *,
    has_phone: bool,
    opted_out: bool,
    exempt: bool,
    quiet: QuietWindow,
    now: dt.datetime,
) -> _Plan:
    if not has_phone:
        return _Plan(Message.Status.SKIPPED, Message.SkipReason.NO_PHONE)
    if opted_out and not exempt:
        return _Plan(Message.Status.SKIPPED, Message.SkipReason.OPT_OUT)
    release = None if exempt else quiet.release_time(now)
    if release is not None:
        return _Plan(Message.Status.DEFERRED, not_before=release)
    return _Plan(Message.Status.QUEUED, not_before=now)


def _opted_out(person_ids: Iterable[int], purpose: str) -> set[int]:
    return set(
        OptOut.objects.filter(
            person_id__in=list(person_ids), purpose__in=[purpose, ALL_PURPOSES]
        ).values_list("person_id", flat=True)
    )


def _after_commit(enqueue: Callable[[], Any]) -> None:
    """Hand work to the queue once the transaction commits. If the queue is down the
    request still succeeds: the rows stay queued and ``release_deferred`` (every
    minute) schedules queued messages that waited too long."""

    def run() -> None:
        try:
            enqueue()
        except Exception:
            logger.exception("could not enqueue notifications; the periodic sweep will")

    transaction.on_commit(run)


def _enqueue_message_on_commit(message: Message) -> None:
    if message.status != Message.Status.QUEUED:
        return
    from fangkong.notify import jobs

    message_id = message.pk
    _after_commit(lambda: jobs.send_messages(message_ids=[message_id]))


def _queue_one(
    *,
    person: Person,
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None,
    legally_required: bool,
    dedup_key: str,
    by_staff: bool,
) -> tuple[Message, bool]:
    """Create the message row for one person (inside a transaction)."""
    purpose = _clean_purpose(purpose)
    dedup_key = _clean_dedup_key(dedup_key)
    clean_context = _clean_context(context)
    templates = templates_for(template_code)
    if by_staff:
        _refuse_transactional(templates)
    tpl = template_for_language(templates, person.language)
    _check_context(templates, [person.language], clean_context)
    if dedup_key:
        existing = Message.objects.filter(
            person=person, purpose=purpose, dedup_key=dedup_key
        ).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    exempt = legally_required or tpl.transactional
    plan = _plan_for(
        has_phone=bool(person.phone_encrypted),
        opted_out=bool(_opted_out([person.pk], purpose)),
        exempt=exempt,
        quiet=QuietHoursResolver().for_path(person.scope_path),
        now=now,
    )
    body = ""
    if plan.status != Message.Status.SKIPPED:
        body = render(tpl.body, {**clean_context, "person_name": person.name})
    message = Message.objects.create(
        person=person,
        purpose=purpose,
        dedup_key=dedup_key or uuid.uuid4().hex,
        template=tpl,
        template_version=tpl.version,
        language=tpl.language,
        body=body,
        legally_required=legally_required,
        status=plan.status,
        skip_reason=plan.skip_reason,
        not_before=plan.not_before,
    )
    return message, True


def _notice_audit(
    actor: Actor, message: Message, template_code: str, context_keys: list[str]
) -> None:
    # Context values may hold one-time codes: only their names are recorded.
    audit_record(
        actor=actor,
        action="notify.notice",
        obj=message,
        scope_path=message.person.scope_path,
        person_id=message.person_id,
        changes={
            "purpose": [None, message.purpose],
            "template": [None, template_code],
            "context_keys": [None, sorted(context_keys)],
            "legally_required": [None, message.legally_required],
            "status": [None, message.status],
            "skip_reason": [None, message.skip_reason or None],
        },
    )


def notify_person(
    *,
    actor: Actor,
    person_id: int,
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None = None,
    legally_required: bool = False,
    dedup_key: str = "",
) -> Message:
    """Queue one notice to a person of the actor's area.

    With a ``dedup_key``, asking again for the same person and purpose returns the
    existing message and queues nothing.
    """
    permissions.require(actor, "notify.send")
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        if person.merged_into_id:
            person = access_person_by_id(actor, person.merged_into_id)
        message, created = _queue_one(
            person=person,
            purpose=purpose,
            template_code=template_code,
            context=context,
            legally_required=legally_required,
            dedup_key=dedup_key,
            by_staff=True,
        )
        if created:
            _notice_audit(actor, message, template_code, list((context or {}).keys()))
            _enqueue_message_on_commit(message)
    return message


def notify_system(
    *,
    person: Person,
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None = None,
    legally_required: bool = False,
    dedup_key: str = "",
) -> Message:
    """Queue a notice triggered by a recorded fact, with no human sender.

    For other apps (status changes, test results, ...). No permission check: the
    caller's own service has done it. Audited with actor "system". Call it inside
    the caller's transaction: the message leaves only if that commits.
    """
    with transaction.atomic():
        message, created = _queue_one(
            person=person,
            purpose=purpose,
            template_code=template_code,
            context=context,
            legally_required=legally_required,
            dedup_key=dedup_key,
            by_staff=False,
        )
        if created:
            _notice_audit(None, message, template_code, list((context or {}).keys()))
            _enqueue_message_on_commit(message)
    return message


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def batch_create(
    *,
    actor: Actor,
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None = None,
    person_ids: list[int] | None = None,
    people: QuerySet[Person] | None = None,
    legally_required: bool = False,
    rate_per_minute: int | None = None,
    dedup_key: str = "",
) -> Batch:
    """Queue one message per person and purpose to a list of people or a queryset.

    People outside the actor's area do not exist (``NotFound``). Duplicates in the
    list, and people who already have a message with the same purpose and
    ``dedup_key``, are dropped and counted. People without a phone, and people who
    opted out (unless the notice is legally required), get a "skipped" message.
    The worker sends at ``rate_per_minute``; non-urgent messages wait out quiet hours.
    """
    permissions.require(actor, "notify.send")
    return _batch_create(
        actor=actor,
        scoped=person_list_for(actor),
        purpose=purpose,
        template_code=template_code,
        context=context,
        person_ids=person_ids,
        people=people,
        legally_required=legally_required,
        rate_per_minute=rate_per_minute,
        dedup_key=dedup_key,
    )


def batch_create_system(
    *,
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None = None,
    person_ids: list[int],
    legally_required: bool = False,
    rate_per_minute: int | None = None,
    dedup_key: str = "",
) -> Batch:
    """A batch triggered by a recorded fact (a zone declared, many statuses
    changed), with no human sender: like ``notify_system`` for many people.

    No permission check or scope: the calling service has done them. Opt-outs,
    quiet hours, deduplication and the rate limit apply as for staff batches; the
    batch has no creator and is audited with actor "system".
    """
    return _batch_create(
        actor=None,
        scoped=Person.objects.filter(merged_into__isnull=True),
        purpose=purpose,
        template_code=template_code,
        context=context,
        person_ids=person_ids,
        people=None,
        legally_required=legally_required,
        rate_per_minute=rate_per_minute,
        dedup_key=dedup_key,
    )


def _batch_create(
    *,
    actor: Actor,
    scoped: QuerySet[Person],
    purpose: str,
    template_code: str,
    context: Mapping[str, Any] | None,
    person_ids: list[int] | None,
    people: QuerySet[Person] | None,
    legally_required: bool,
    rate_per_minute: int | None,
    dedup_key: str,
) -> Batch:
    """Check everything, fix the recipients, then prepare their messages here (up
    to ``conf.inline_batch_limit()`` people) or hand the preparation to the worker
    (``batch_prepare``): a batch of 500,000 is queued in one quick action."""
    purpose = _clean_purpose(purpose)
    dedup_key = _clean_dedup_key(dedup_key)
    clean_context = _clean_context(context)
    rate = _clean_rate(rate_per_minute)
    templates = templates_for(template_code)
    _refuse_transactional(templates)
    if (person_ids is None) == (people is None):
        raise ValidationFailed(
            fields={"person_ids": _("Choose the people: a list of ids or a filter, not both.")}
        )
    # The recipients, the languages they read and the deepest node holding them all
    # (the longest common prefix of a set of paths is that of its lowest and highest).
    paths: list[str] = []
    languages: set[str] = set()
    if person_ids is not None:
        if not person_ids:
            raise ValidationFailed(fields={"person_ids": _("Choose at least one person.")})
        total = len(person_ids)
        wanted = sorted(set(person_ids))
        found: set[int] = set()
        for part in _chunks(wanted, _CHUNK):
            rows = scoped.filter(pk__in=part).values_list("pk", "scope_path", "language")
            for pk, path, language in rows:
                found.add(pk)
                paths.append(path)
                languages.add(language)
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            raise NotFound(
                fields={
                    "person_ids": _("No such person: %(ids)s.")
                    % {"ids": ", ".join(map(str, missing[:10]))}
                }
            )
        duplicates = total - len(wanted)
    else:
        assert people is not None
        rows = (
            scoped.filter(pk__in=people.values("pk"))
            .values_list("pk", "scope_path", "language")
            .order_by("pk")
        )
        wanted = []
        for pk, path, language in rows:
            wanted.append(pk)
            paths.append(path)
            languages.add(language)
        total = len(wanted)
        duplicates = 0
    if not wanted:
        raise ValidationFailed(fields={"filter": _("No one matches this filter.")})
    scope = common_path([min(paths), max(paths)])
    del paths
    # Every language the recipients read must have its placeholders filled.
    _check_context(templates, languages, clean_context)
    if (
        dedup_key
        and Batch.objects.filter(
            purpose=purpose, dedup_key=dedup_key, status=Batch.Status.PREPARING
        ).exists()
    ):
        raise Conflict(
            fields={
                "dedup_key": _(
                    "A batch with this key is still being prepared; "
                    "wait until it is queued, then send again to reach the others."
                )
            }
        )
    inline = len(wanted) <= conf.inline_batch_limit()
    with transaction.atomic():
        batch = Batch.objects.create(
            purpose=purpose,
            template_code=template_code,
            context=clean_context,
            created_by=acting_user(actor),
            scope_path=scope,
            legally_required=legally_required,
            dedup_key=dedup_key,
            rate_per_minute=rate,
            total=total,
            deduplicated=duplicates,
            prepared=duplicates,  # repeats in the list are handled: dropped
            status=Batch.Status.QUEUED if inline else Batch.Status.PREPARING,
            recipients=None if inline else pack_ids(wanted),
        )
        changes: dict[str, Any] = {
            "purpose": [None, purpose],
            "template": [None, template_code],
            "context_keys": [None, sorted(clean_context)],
            "legally_required": [None, legally_required],
            "rate_per_minute": [None, rate],
            "total": [None, batch.total],
        }
        if inline:
            counts = _Counts(dup=duplicates)
            for part in _chunks(wanted, _CHUNK):
                _prepare_messages(batch, templates, part, counts)
            _batch_queue(batch, counts)
            changes.update(_counts_audit(batch))
        else:
            changes["prepared_by"] = [None, "worker"]
            changes["deduplicated"] = [None, duplicates]
        audit_record(
            actor=actor,
            action="notify.batch_create",
            obj=batch,
            scope_path=batch.scope_path,
            changes=changes,
        )
        if not inline:
            from fangkong.notify import jobs

            batch_id = batch.pk
            _after_commit(lambda: jobs.prepare_batch(batch_id=batch_id))
    return batch


@dataclass
class _Counts:
    queued: int = 0
    deferred: int = 0
    no_phone: int = 0
    opt_out: int = 0
    dup: int = 0


def _message_key(batch: Batch) -> str:
    return batch.dedup_key or f"batch-{batch.pk}"


def _prepare_messages(
    batch: Batch, templates: Mapping[str, MessageTemplate], part: list[int], counts: _Counts
) -> None:
    """The messages of some of a batch's recipients (inside the caller's transaction):
    each person once per purpose and key; opted-out people and people without a
    phone recorded as skipped; quiet hours deferring the rest."""
    now = timezone.now()
    quiet = QuietHoursResolver()
    key = _message_key(batch)
    fixed: dict[str, Any] = {
        "batch": batch.pk,
        "purpose": batch.purpose,
        "dedup_key": key,
        "legally_required": batch.legally_required,
        "attempts": 0,
        "provider_message_id": "",
        "error": "",
        "sent_at": None,
        "delivered_at": None,
        "failed_at": None,
        "created_at": now,
        "updated_at": now,
    }
    already = set(
        Message.objects.filter(
            person_id__in=part, purpose=batch.purpose, dedup_key=key
        ).values_list("person_id", flat=True)
    )
    opted = _opted_out(part, batch.purpose)
    people_rows = (
        Person.objects.filter(pk__in=part)
        .order_by("pk")
        .values_list("pk", "name", "language", "scope_path", "phone_encrypted")
    )
    context = batch.context
    new: list[dict[str, Any]] = []
    # Within a chunk the plan depends only on these four; a body only on the name.
    plans: dict[tuple[bool, bool, bool, QuietWindow], _Plan] = {}
    fillers: dict[int, Callable[[str], str]] = {}
    for pk, name, language, scope_path, phone in people_rows:
        if pk in already:
            counts.dup += 1
            continue
        tpl = template_for_language(templates, language)
        case = (
            bool(phone),
            pk in opted,
            batch.legally_required or tpl.transactional,
            quiet.for_path(scope_path),
        )
        plan = plans.get(case)
        if plan is None:
            plan = plans[case] = _plan_for(
                has_phone=case[0], opted_out=case[1], exempt=case[2], quiet=case[3], now=now
            )
        body = ""
        if plan.status == Message.Status.SKIPPED:
            setattr(counts, plan.skip_reason, getattr(counts, plan.skip_reason) + 1)
        else:
            setattr(counts, plan.status, getattr(counts, plan.status) + 1)
            fill = fillers.get(tpl.pk)
            if fill is None:
                fill = fillers[tpl.pk] = person_renderer(tpl.body, context)
            body = fill(name)
        new.append(
            {
                **fixed,
                "person": pk,
                "reference": uuid.uuid4().hex,
                "template": tpl.pk,
                "template_version": tpl.version,
                "language": tpl.language,
                "body": body,
                "status": plan.status,
                "skip_reason": plan.skip_reason,
                "not_before": plan.not_before,
            }
        )
    try:
        insert_many(Message, new)
    except IntegrityError as exc:  # a concurrent batch with the same key won
        raise Conflict(
            fields={"dedup_key": _("Another batch with this key is being created.")}
        ) from exc


def _batch_queue(batch: Batch, counts: _Counts) -> None:
    """Record what the preparation found; the batch is queued (or complete if
    nothing is to be sent) and its queued messages are dispatched after commit."""
    _store_counts(batch, counts)
    batch.prepared = batch.total
    batch.recipients = None
    batch.status = Batch.Status.QUEUED
    if batch.queued == 0:
        batch.status = Batch.Status.COMPLETED
        batch.completed_at = timezone.now()
    batch.save(update_fields=[*_COUNT_FIELDS, "recipients", "status", "completed_at", "updated_at"])
    if counts.queued:
        from fangkong.notify import jobs

        batch_id = batch.pk
        _after_commit(lambda: jobs.dispatch_batch(batch_id=batch_id))


_COUNT_FIELDS = [
    "prepared",
    "deduplicated",
    "queued",
    "deferred",
    "skipped_no_phone",
    "skipped_opt_out",
    "quiet_hours_applied",
]


def _store_counts(batch: Batch, counts: _Counts) -> None:
    batch.deduplicated = counts.dup
    batch.queued = counts.queued + counts.deferred
    batch.deferred = counts.deferred
    batch.skipped_no_phone = counts.no_phone
    batch.skipped_opt_out = counts.opt_out
    batch.quiet_hours_applied = counts.deferred > 0


def _stored_counts(batch: Batch) -> _Counts:
    return _Counts(
        queued=batch.queued - batch.deferred,
        deferred=batch.deferred,
        no_phone=batch.skipped_no_phone,
        opt_out=batch.skipped_opt_out,
        dup=batch.deduplicated,
    )


def _counts_audit(batch: Batch) -> dict[str, list[Any]]:
    return {
        "deduplicated": [None, batch.deduplicated],
        "skipped_opt_out": [None, batch.skipped_opt_out],
        "skipped_no_phone": [None, batch.skipped_no_phone],
        "queued": [None, batch.queued],
        "deferred": [None, batch.deferred],
    }


PREPARE_CHUNK = 5000  # recipients per transaction when the worker prepares a batch


def batch_prepare(*, batch_id: int, max_chunks: int | None = None) -> Batch | None:
    """The worker's part of a large batch: its messages, ``PREPARE_CHUNK`` recipients
    per transaction, so its progress (``prepared`` of ``total``; repeats in the list
    count as handled from the start) shows while it runs, and a restarted worker
    goes on where the last one stopped. Each chunk locks the batch row: two workers
    never prepare the same recipients. When all are prepared the batch is queued,
    dispatched and audited with its counts. ``max_chunks``: stop early (tests)."""
    ids: list[int] | None = None
    templates: Mapping[str, MessageTemplate] = {}
    chunks = 0
    batch: Batch | None = None
    while max_chunks is None or chunks < max_chunks:
        with transaction.atomic():
            batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
            if batch is None or batch.status != Batch.Status.PREPARING:
                return batch
            if ids is None:
                ids = unpack_ids(bytes(batch.recipients or b""))
                templates = templates_for(batch.template_code)
            offset = batch.prepared - (batch.total - len(ids))
            part = ids[offset : offset + PREPARE_CHUNK]
            counts = _stored_counts(batch)
            if not part:
                _batch_queue(batch, counts)
                audit_record(
                    actor=None,
                    action="notify.batch_prepared",
                    obj=batch,
                    scope_path=batch.scope_path,
                    changes=_counts_audit(batch),
                )
                return batch
            _prepare_messages(batch, templates, part, counts)
            _store_counts(batch, counts)
            batch.prepared += len(part)
            batch.save(update_fields=[*_COUNT_FIELDS, "updated_at"])
        chunks += 1
    return batch


def pack_ids(ids: list[int]) -> bytes:
    """Sorted ids, stored compactly: zlib over their differences (a city-wide batch of
    500,000 recipients is a few hundred kilobytes)."""
    previous = 0
    deltas = []
    for pk in ids:
        deltas.append(pk - previous)
        previous = pk
    return zlib.compress(array.array("q", deltas).tobytes())


def unpack_ids(data: bytes) -> list[int]:
    if not data:
        return []
    deltas = array.array("q")
    deltas.frombytes(zlib.decompress(data))
    return list(itertools.accumulate(deltas))


# --- Opt-outs -------------------------------------------------------------


def optout_set(*, actor: Actor, person_id: int, purpose: str = ALL_PURPOSES) -> OptOut:
    """Record that a person declines messages for ``purpose`` (``*``: all)."""
    permissions.require(actor, "person.update")
    if purpose != ALL_PURPOSES:
        purpose = _clean_purpose(purpose)
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        optout, created = OptOut.objects.get_or_create(
            person=person, purpose=purpose, defaults={"since": timezone.now()}
        )
        if created:
            audit_record(
                actor=actor,
                action="notify.optout_set",
                obj=optout,
                scope_path=person.scope_path,
                person_id=person.pk,
                changes={"purpose": [None, purpose]},
            )
    return optout


def optout_clear(*, actor: Actor, person_id: int, purpose: str = ALL_PURPOSES) -> None:
    permissions.require(actor, "person.update")
    with transaction.atomic():
        person = access_person_by_id(actor, person_id)
        optout = OptOut.objects.filter(person=person, purpose=purpose).first()
        if optout is None:
            raise NotFound(fields={"purpose": _("This person has not opted out of it.")})
        audit_record(
            actor=actor,
            action="notify.optout_clear",
            obj=optout,
            scope_path=person.scope_path,
            person_id=person.pk,
            changes={"purpose": [purpose, None]},
        )
        optout.delete()


# --- Delivery reports -----------------------------------------------------


def message_delivery_report(
    *, reference: str = "", provider_message_id: str = "", delivered: bool, error: str = ""
) -> Message | None:
    """Apply a gateway delivery report; idempotent. None if the message is unknown.

    Derived data from the gateway, not a staff action: not audited.
    """
    qs = Message.objects.all()
    if reference:
        qs = qs.filter(reference=reference)
    elif provider_message_id:
        qs = qs.filter(provider_message_id=provider_message_id)
    else:
        return None
    message = qs.first()
    if message is None:
        return None
    now = timezone.now()
    if delivered:
        # A late "delivered" also corrects an earlier failure report.
        Message.objects.filter(
            pk=message.pk,
            status__in=[
                Message.Status.SENDING,
                Message.Status.SENT,
                Message.Status.FAILED,
                Message.Status.UNCONFIRMED,
            ],
        ).update(status=Message.Status.DELIVERED, delivered_at=now, error="", updated_at=now)
    else:
        Message.objects.filter(
            pk=message.pk,
            status__in=[Message.Status.SENDING, Message.Status.SENT, Message.Status.UNCONFIRMED],
        ).update(
            status=Message.Status.FAILED,
            failed_at=now,
            error=(error or "delivery failed")[:500],
            updated_at=now,
        )
    message.refresh_from_db()
    return message
