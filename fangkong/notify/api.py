"""Notification API: templates, batches with progress, single notices, delivery callbacks."""

import datetime as dt
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from fangkong.core import permissions
from fangkong.core.errors import ValidationFailed
from fangkong.core.models import KeyGroup
from fangkong.core.pagination import PageNumber
from fangkong.core.schema import Schema
from fangkong.core.selectors import access_jurisdiction_by_id, person_list_for
from fangkong.notify import selectors, services
from fangkong.notify.models import Batch, Message

router = Router(tags=["notify"])

ContextValue = str | int | float


# --- Schemas ---------------------------------------------------------------


class TemplateOut(Schema):
    code: str
    language: str
    version: int
    description: str
    body: str
    placeholders: list[str]
    transactional: bool


class TemplateFilter(Schema):
    code: str = ""
    language: str = ""


class PeopleFilterIn(Schema):
    jurisdiction_id: int | None = None
    key_group: str | None = Field(None, max_length=40)


class BatchIn(Schema):
    person_ids: list[int] | None = Field(None, max_length=100_000)
    filter: PeopleFilterIn | None = None
    purpose: str = Field(..., max_length=60)
    template_code: str = Field(..., max_length=60)
    context: dict[str, ContextValue] = {}
    legally_required: bool = False
    rate_per_minute: int | None = Field(None, ge=1, le=services.MAX_RATE)
    dedup_key: str = Field("", max_length=80)


class BatchOut(Schema):
    id: int
    purpose: str
    template_code: str
    legally_required: bool
    status: str
    rate_per_minute: int
    total: int
    prepared: int
    deduplicated: int
    skipped_opt_out: int
    skipped_no_phone: int
    queued: int
    deferred: int
    quiet_hours_applied: bool
    sent: int
    delivered: int
    failed: int
    created_by: str
    created_at: dt.datetime
    completed_at: dt.datetime | None

    @staticmethod
    def resolve_created_by(obj: Batch) -> str:
        return obj.created_by.get_username() if obj.created_by else "system"

    @staticmethod
    def resolve_sent(obj: Batch) -> int:
        return int(getattr(obj, "n_sent", 0))

    @staticmethod
    def resolve_delivered(obj: Batch) -> int:
        return int(getattr(obj, "n_delivered", 0))

    @staticmethod
    def resolve_failed(obj: Batch) -> int:
        return int(getattr(obj, "n_failed", 0))


class BatchDetailOut(BatchOut):
    context: dict[str, Any]
    progress: dict[str, int]
    percent_done: float


class BatchFilter(Schema):
    purpose: str = ""


class MessageOut(Schema):
    id: int
    reference: str
    batch_id: int | None
    person_id: int
    person_name: str
    phone_masked: str
    purpose: str
    language: str
    body: str
    legally_required: bool
    status: str
    skip_reason: str
    attempts: int
    not_before: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    error: str

    @staticmethod
    def resolve_person_name(obj: Message) -> str:
        return obj.person.name

    @staticmethod
    def resolve_phone_masked(obj: Message) -> str:
        return obj.person.phone_masked


class MessageFilter(Schema):
    status: Message.Status | None = None


class NoticeIn(Schema):
    purpose: str = Field(..., max_length=60)
    template_code: str = Field(..., max_length=60)
    context: dict[str, ContextValue] = {}
    legally_required: bool = False
    dedup_key: str = Field("", max_length=80)


class DeliveryReportIn(Schema):
    reference: str = Field("", max_length=64)
    provider_message_id: str = Field("", max_length=128)
    status: str = Field(..., max_length=32)
    error: str = Field("", max_length=500)


class DeliveryReportOut(Schema):
    reference: str
    status: str


DELIVERED = {"delivered", "delivrd", "success", "ok"}
FAILED = {"failed", "undelivered", "undeliv", "expired", "rejected", "error"}


# --- Helpers ---------------------------------------------------------------


def _detail(batch: Batch) -> Batch:
    """The batch with its progress by status and the share already handled."""
    progress = selectors.batch_progress(batch)
    done = sum(progress[s] for s in ("sent", "delivered", "failed"))
    pending = sum(progress[s] for s in ("queued", "deferred", "sending"))
    extra = {
        "n_sent": progress["sent"],
        "n_delivered": progress["delivered"],
        "n_failed": progress["failed"],
        "progress": progress,
        "percent_done": round(100.0 * done / (done + pending), 1) if done + pending else 100.0,
    }
    for name, value in extra.items():
        setattr(batch, name, value)
    return batch


def _callback_token_ok(request: HttpRequest) -> bool | None:
    """None: callbacks are not configured; else whether the token matches."""
    expected = str(getattr(settings, "FANGKONG_SMS_CALLBACK_TOKEN", "") or "")
    if not expected:
        return None
    given = request.headers.get("X-Fangkong-Token", "")
    auth = request.headers.get("Authorization", "")
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not given:
        given = request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    from fangkong.api import error_response

    return error_response(request, status, code, message)


# --- Endpoints -------------------------------------------------------------


@router.get("/templates", response=list[TemplateOut])
@paginate(PageNumber)
def template_list(request: HttpRequest, filters: Query[TemplateFilter]) -> Any:
    permissions.require(request.user, "notify.view")
    return selectors.template_list(code=filters.code, language=filters.language)


@router.post("/batches", response={201: BatchDetailOut})
def batch_create(request: HttpRequest, payload: BatchIn) -> Status[Batch]:
    user = request.user
    permissions.require(user, "notify.send")
    people = None
    if payload.filter is not None:
        f = payload.filter
        node = access_jurisdiction_by_id(user, f.jurisdiction_id) if f.jurisdiction_id else None
        if f.key_group and not KeyGroup.objects.filter(code=f.key_group).exists():
            raise ValidationFailed(
                fields={
                    "filter.key_group": _("Unknown key group: %(codes)s.") % {"codes": f.key_group}
                }
            )
        people = person_list_for(user, jurisdiction=node, key_group=f.key_group or None)
    batch = services.batch_create(
        actor=user,
        purpose=payload.purpose,
        template_code=payload.template_code,
        context=payload.context,
        person_ids=payload.person_ids,
        people=people,
        legally_required=payload.legally_required,
        rate_per_minute=payload.rate_per_minute,
        dedup_key=payload.dedup_key,
    )
    return Status(201, _detail(batch))


@router.get("/batches", response=list[BatchOut])
@paginate(PageNumber)
def batch_list(request: HttpRequest, filters: Query[BatchFilter]) -> Any:
    return selectors.with_delivery_counts(
        selectors.batch_list_for(request.user, purpose=filters.purpose)
    )


@router.get("/batches/{int:batch_id}", response=BatchDetailOut)
def batch_detail(request: HttpRequest, batch_id: int) -> Batch:
    return _detail(selectors.access_batch_by_id(request.user, batch_id))


@router.get("/batches/{int:batch_id}/messages", response=list[MessageOut])
@paginate(PageNumber)
def batch_messages(request: HttpRequest, batch_id: int, filters: Query[MessageFilter]) -> Any:
    batch = selectors.access_batch_by_id(request.user, batch_id)
    return selectors.batch_messages_for(request.user, batch, status=filters.status or "")


@router.post("/people/{int:person_id}", response={201: MessageOut})
def person_notify(request: HttpRequest, person_id: int, payload: NoticeIn) -> Status[Message]:
    message = services.notify_person(
        actor=request.user,
        person_id=person_id,
        purpose=payload.purpose,
        template_code=payload.template_code,
        context=payload.context,
        legally_required=payload.legally_required,
        dedup_key=payload.dedup_key,
    )
    return Status(201, message)


@router.post(
    "/callbacks/delivery",
    auth=None,
    response={200: DeliveryReportOut},
    summary="Delivery report from the SMS gateway (shared-token authentication)",
)
def delivery_callback(request: HttpRequest, payload: DeliveryReportIn) -> Any:
    ok = _callback_token_ok(request)
    if ok is None:
        return _error(request, 403, "forbidden", _("Delivery callbacks are not configured."))
    if not ok:
        return _error(request, 401, "unauthenticated", _("Wrong or missing callback token."))
    state = payload.status.strip().lower()
    if state not in DELIVERED | FAILED:
        raise ValidationFailed(
            fields={"status": _("Unknown delivery status “%(value)s”.") % {"value": payload.status}}
        )
    if not payload.reference and not payload.provider_message_id:
        raise ValidationFailed(
            fields={"reference": _("Give the message reference or the provider message id.")}
        )
    message = services.message_delivery_report(
        reference=payload.reference,
        provider_message_id=payload.provider_message_id,
        delivered=state in DELIVERED,
        error=payload.error,
    )
    if message is None:
        return _error(request, 404, "not_found", _("Not found."))
    return {"reference": message.reference, "status": message.status}
