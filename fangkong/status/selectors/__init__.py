"""Reads of the status app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from fangkong.core import foureyes, labels
from fangkong.core.types import Actor
from fangkong.status import queries, rules
from fangkong.status.models import PersonStatus, Reason
from fangkong.status.services.reasons import CACHE_SECONDS, cache_key

_active_q = queries.active


def _from_reasons(person_id: int, now: dt.datetime) -> tuple[str, float | None]:
    """The effective level computed from the reasons themselves (read-only)."""
    levels = rules.levels()
    best: tuple[int, str, dt.datetime | None, bool] | None = None
    for level, ends_at in Reason.objects.filter(_active_q(now), person_id=person_id).values_list(
        "level", "ends_at"
    ):
        sev = levels[level].severity if level in levels else 0
        if best is None or sev > best[0]:
            best = (sev, level, ends_at, ends_at is None)
        elif sev == best[0]:
            open_ended = best[3] or ends_at is None
            best = (sev, level, None if open_ended else max(best[2], ends_at), open_ended)  # type: ignore[type-var]
    if best is None:
        return rules.lowest_level().code, None
    return best[1], best[2].timestamp() if best[2] else None


def effective(person_id: int) -> tuple[str, float | None]:
    """``(level code, valid-until timestamp or None)``: from the cache, else the
    cached row, else the reasons. An entry whose validity has passed is recomputed."""
    key = cache_key(person_id)
    hit = cache.get(key)
    now_ts = timezone.now().timestamp()
    if hit is not None and (hit[1] is None or hit[1] > now_ts):
        return hit[0], hit[1]
    row = (
        PersonStatus.objects.filter(person_id=person_id).values_list("level", "valid_until").first()
    )
    if row is not None and (row[1] is None or row[1].timestamp() > now_ts):
        value: tuple[str, float | None] = (row[0], row[1].timestamp() if row[1] else None)
    elif row is None:
        value = (rules.lowest_level().code, None)
    else:
        value = _from_reasons(person_id, timezone.now())
    cache.set(key, value, CACHE_SECONDS)
    return value


def ends_how_text(reason: Reason) -> str:
    """What ends this reason, in plain language."""
    parts: list[str] = []
    if reason.kind in ("sealed_zone", "controlled_zone"):
        parts.append(_("ends when the zone is lifted"))
    elif reason.kind == "confirmed_case":
        parts.append(_("ends when you are released from isolation"))
    if reason.ends_at is not None:
        parts.append(
            _("ends on %(date)s")
            % {"date": formats.date_format(timezone.localtime(reason.ends_at), "Y-m-d H:i")}
        )
    rule = reason.rule
    if rule is not None and rule.clear_negative_tests:
        if rule.clear_negative_tests == 1:
            parts.append(_("or earlier after one negative test"))
        else:
            parts.append(
                _("or earlier after %(n)s negative tests %(h)s hours apart")
                % {"n": rule.clear_negative_tests, "h": rule.clear_interval_hours}
            )
    if not parts:
        parts.append(_("ends when the health authority ends it"))
    return _("; ").join(parts) if len(parts) > 1 else parts[0]


def _reason_dict(reason: Reason) -> dict[str, Any]:
    kinds = rules.kinds()
    kind = kinds.get(reason.kind)
    levels = rules.levels()
    lv = levels.get(reason.level)
    return {
        "id": reason.pk,
        "kind": reason.kind,
        "kind_label": kind.name if kind else reason.kind,
        "level": reason.level,
        "level_name": lv.name if lv else reason.level,
        "colour": lv.colour if lv else "#999999",
        "since": reason.starts_at,
        "until": reason.ends_at,
        "ends_how_label": ends_how_text(reason),
        "plain_text": kind.plain if kind else "",
    }


def person_status(person_id: int) -> dict[str, Any]:
    """The person's effective status and their active reasons (for the person and
    for staff panels; no other person's identity, no case details)."""
    now = timezone.now()
    code, until_ts = effective(person_id)
    levels = rules.levels()
    lv = levels.get(code) or rules.lowest_level()
    reasons = (
        Reason.objects.filter(_active_q(now), person_id=person_id)
        .select_related("rule")
        .order_by("-starts_at", "-pk")
    )
    items = [_reason_dict(r) for r in reasons]
    items.sort(key=lambda r: -(levels[r["level"]].severity if r["level"] in levels else 0))
    return {
        "level": lv.code,
        "name": lv.name,
        "colour": lv.colour,
        "severity": lv.severity,
        "meaning": lv.meaning,
        "valid_until": dt.datetime.fromtimestamp(until_ts, tz=dt.UTC) if until_ts else None,
        "reasons": items,
    }


# What a reason's source record is called on the staff panel (``source_type`` is
# "<app>.<record>"): the record's name, never the internal type.
SOURCE_NAMES = {
    "case": pgettext_lazy("status source", "Case"),
    "contact": pgettext_lazy("status source", "Contact"),
    "zone": pgettext_lazy("status source", "Zone"),
    "tube": pgettext_lazy("status source", "Test tube"),
    "schedule": pgettext_lazy("status source", "Screening schedule"),
    "arrival": pgettext_lazy("status source", "Arrival report"),
    "manual": pgettext_lazy("status source", "Manual request"),
}


# Sources whose owner names them in words (core.labels resolvers): a case by its
# number, a zone by its name; others by their kind and number.
_SOURCE_WORDS = {"investigation.case": "case_id", "zones.zone": "zone"}


def source_name(source_type: str, source_id: int) -> str:
    record = SOURCE_NAMES.get(source_type.rpartition(".")[2]) or pgettext("status source", "Record")
    field = _SOURCE_WORDS.get(source_type)
    words = labels.value(field, source_id) if field and source_id else None
    return f"{record} {words}" if words else f"{record} #{source_id}"


def person_history(person_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """All reasons of a person, newest first, with how they ended (staff panel)."""
    rows = []
    for r in (
        Reason.objects.filter(person_id=person_id)
        .select_related("rule", "created_by__staff", "ended_by__staff")
        .order_by("-starts_at", "-pk")[:limit]
    ):
        d = _reason_dict(r)
        d.update(
            {
                "source_type": r.source_type,
                "source_id": r.source_id,
                "source": source_name(r.source_type, r.source_id),
                "rule": (
                    _("version %(n)s of %(date)s")
                    % {
                        "n": r.rule.version,
                        "date": formats.date_format(r.rule.effective_from, "Y-m-d"),
                    }
                    if r.rule
                    else ""
                ),
                "ended_at": r.ended_at,
                "ended_how": r.get_ended_how_display() if r.ended_how else "",
                "created_by": staff_name(r.created_by),
                "ended_by": staff_name(r.ended_by),
            }
        )
        rows.append(d)
    return rows


# --- Manual changes, appeals, alerts (staff) -------------------------------------


def _scope_or_404(actor: Actor) -> str:
    from fangkong.core import permissions
    from fangkong.core.errors import NotFound

    path = permissions.scope_path(actor)
    if path is None:
        raise NotFound()
    return path


def manual_requests_for(actor: Actor, *, state: str | None = None) -> Any:
    """Manual requests of the actor's subtree, newest first (approvals queue, report)."""
    from fangkong.core.models import path_upper_bound
    from fangkong.status.models import ManualRequest

    path = _scope_or_404(actor)
    qs = ManualRequest.objects.select_related("basis", "requested_by__staff", "decided_by__staff")
    if path:
        qs = qs.filter(scope_path__gte=path, scope_path__lt=path_upper_bound(path))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def staff_name(user: Any) -> str:
    """How a staff member is named on a page: their display name (the sign-in name
    only for an account without a profile)."""
    if user is None:
        return ""
    profile = getattr(user, "staff", None)
    return str(profile.display_name) if profile and profile.display_name else user.get_username()


def manual_request_rows(requests: Iterable[Any]) -> list[dict[str, Any]]:
    """The approvals queue and the report in words: the level's name, the basis's
    name, whether it is a health fact, its source, and who asked and decided."""
    levels = rules.levels()
    rows = []
    for req in requests:
        lv = levels.get(req.level) if req.level else None
        rows.append(
            {
                "pk": req.pk,
                "request": req,
                "action": req.get_action_display(),
                "level_name": (lv.name if lv else req.level) if req.level else "",
                "basis_name": req.basis.name,
                "basis_health": req.basis.health,
                "source_ref": req.source_ref,
                "requested_by": staff_name(req.requested_by),
                "decided_by": staff_name(req.decided_by),
            }
        )
    return rows


def manual_alerts(actor: Actor, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Unusual patterns: many manual reds by one user in the window; reds with no
    health basis (pending and approved requests both count); approvals between
    linked accounts (``core.foureyes``)."""
    from django.db.models import Count, Sum

    now = now or timezone.now()
    policy = rules.policy()
    levels = rules.levels()
    top = max((lv.severity for lv in levels.values()), default=0)
    reds = [code for code, lv in levels.items() if lv.severity >= top]
    base = (
        manual_requests_for(actor).filter(action="grant", level__in=reds).exclude(state="refused")
    )
    since = now - dt.timedelta(hours=policy.alert_window_hours)
    alerts: list[dict[str, Any]] = []
    counted = list(
        base.filter(created_at__gte=since)
        .values("requested_by")
        .annotate(people=Sum("people_count"), requests=Count("pk"))
        .order_by("-people")
    )
    names = {
        u.pk: staff_name(u)
        for u in get_user_model()
        .objects.filter(pk__in=[row["requested_by"] for row in counted])
        .select_related("staff")
    }
    for row in counted:
        if (row["people"] or 0) >= policy.alert_manual_reds:
            alerts.append(
                {
                    "kind": "many_reds",
                    "text": _(
                        "%(user)s asked for %(n)s manual red statuses in the last %(h)s hours."
                    )
                    % {
                        "user": names[row["requested_by"]],
                        "n": row["people"],
                        "h": policy.alert_window_hours,
                    },
                }
            )
    # Four eyes between linked accounts (one created the other or changed its
    # roles): refused since issue 22, but approvals decided before, or whose
    # accounts were linked afterwards, are counted here.
    approved = (
        manual_requests_for(actor)
        .filter(state="approved", decided_by__isnull=False)
        .values("requested_by_id", "decided_by_id")
        .annotate(requests=Count("pk"), people=Sum("people_count"))
        .order_by()
    )
    rows = list(approved)
    linked = foureyes.linked_pairs((r["requested_by_id"], r["decided_by_id"]) for r in rows)
    ids = {u for pair in linked for u in pair}
    linked_names = {
        u.pk: staff_name(u)
        for u in get_user_model().objects.filter(pk__in=ids).select_related("staff")
    }
    for row in rows:
        if (row["requested_by_id"], row["decided_by_id"]) not in linked:
            continue
        alerts.append(
            {
                "kind": "linked_approval",
                "requests": row["requests"],
                "text": ngettext(
                    "%(n)s request of %(user)s was approved by %(approver)s, an account "
                    "linked to theirs (one created the other or changed its roles).",
                    "%(n)s requests of %(user)s were approved by %(approver)s, an account "
                    "linked to theirs (one created the other or changed its roles).",
                    row["requests"],
                )
                % {
                    "n": row["requests"],
                    "user": linked_names[row["requested_by_id"]],
                    "approver": linked_names[row["decided_by_id"]],
                },
            }
        )
    for req in base.filter(basis__health=False).select_related("requested_by__staff")[:50]:
        alerts.append(
            {
                "kind": "no_health_basis",
                "request_id": req.pk,
                "text": _(
                    "Request #%(id)s by %(user)s gives red to %(n)s people without a health basis."
                )
                % {"id": req.pk, "user": staff_name(req.requested_by), "n": req.people_count},
            }
        )
    return alerts


def appeals_for(actor: Actor, *, state: str | None = "open") -> Any:
    from fangkong.core.models import path_upper_bound
    from fangkong.status.models import Appeal

    path = _scope_or_404(actor)
    qs = Appeal.objects.select_related("person", "decided_by")
    if path:
        qs = qs.filter(scope_path__gte=path, scope_path__lt=path_upper_bound(path))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("due_at", "pk")


def status_counts(actor: Actor) -> list[dict[str, Any]]:
    """People per non-green level in the actor's subtree (overview)."""
    from django.db.models import Count

    from fangkong.core.models import path_upper_bound

    path = _scope_or_404(actor)
    qs = PersonStatus.objects.all()
    if path:
        qs = qs.filter(person__scope_path__gte=path, person__scope_path__lt=path_upper_bound(path))
    counts = dict(qs.values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    return [
        {"level": code, "name": lv.name, "colour": lv.colour, "count": counts.get(code, 0)}
        for code, lv in rules.levels().items()
        if lv.severity > rules.lowest_level().severity
    ]


def people_with_clearable_reasons(*, sampled_by: dt.datetime, limit: int) -> set[int] | None:
    """The people who have an active reason that negative tests taken by
    ``sampled_by`` could end, or None when there are more than ``limit`` of them.

    The read half of ``negative_results_record`` for bulk callers (a whole
    round's results): facts about anyone else change nothing, so they need not
    be gathered. Read it in the same transaction as the record call."""
    now = timezone.now()
    rows = list(queries.clearable(sampled_by, now).values_list("person_id", flat=True)[: limit + 1])
    if len(rows) > limit:
        return None
    return set(rows)
