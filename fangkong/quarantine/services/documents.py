"""Quarantine orders (隔离通知书) and release certificates as PDF.

The wording is data (``DocumentTemplate`` per kind and language, versioned);
each order is printed in its person's language unless another is chosen, so a
bulk print of a flight mixes Chinese and English pages. Orders are numbered
once (issuing again returns the same order); printing never writes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record_many
from fangkong.core.errors import Conflict, NotFound, ValidationFailed
from fangkong.core.pdf import PdfWriter
from fangkong.core.types import Actor, acting_user
from fangkong.quarantine.models import DocumentTemplate, QuarantineOrder, Stay
from fangkong.quarantine.services import rules
from fangkong.quarantine.services.monitoring import next_number

MAX_ORDERS = 5000
LANGUAGES = ("zh-hans", "en")


_PLACEHOLDER = re.compile(r"\{([a-z_]{1,40})\}")


def fill(text: str, ctx: dict[str, str]) -> str:
    """The template text with its ``{placeholders}`` filled (unknown ones empty).
    Only plain names are replaced: a template cannot reach anything else."""
    return _PLACEHOLDER.sub(lambda m: ctx.get(m.group(1), ""), text)


def _local_date(day: dt.date, language: str) -> str:
    with translation.override(language):
        return str(date_format(day, "DATE_FORMAT"))


def _context(stay: Stay, language: str, number: str) -> dict[str, str]:
    with translation.override(language):
        return dict(
            name=stay.person.name,
            document=stay.person.doc_masked,
            site=stay.site.name,
            address=stay.site.address or "",
            room=stay.room.number if stay.room else "—",
            start=_local_date(stay.started_on, language),
            end=_local_date(stay.planned_end - dt.timedelta(days=1), language),
            category=stay.category.name,
            number=number,
            home_monitoring_days=str(stay.rule.home_monitoring_days),
        )


def _render(
    doc: PdfWriter,
    template: DocumentTemplate,
    ctx: dict[str, str],
    number: str,
    language: str,
    issued: dt.date,
) -> None:
    with translation.override(language):
        doc.heading(fill(template.title, ctx))
        doc.line_right(_("No. %(number)s") % {"number": number}, size=10)
        doc.spacer(4)
        paragraphs = [p.strip() for p in template.body.split("\n\n") if p.strip()]
        for i, para in enumerate(paragraphs):
            # The salutation stands alone; Chinese paragraphs after it are indented.
            doc.paragraph(fill(para, ctx), indent=language == "zh-hans" and i > 0)
        if template.legal_basis:
            doc.spacer(2)
            doc.paragraph(_("Legal basis: %(basis)s") % {"basis": template.legal_basis}, size=9)
        doc.signature(template.authority, _local_date(issued, language))


def _order_stays(actor: Actor, stay_ids: Sequence[int]) -> list[Stay]:
    if not stay_ids:
        raise ValidationFailed(fields={"stay_ids": _("Choose at least one person.")})
    if len(stay_ids) > MAX_ORDERS:
        raise ValidationFailed(fields={"stay_ids": _("At most 5,000 orders at a time.")})
    stays = list(
        Stay.objects.filter(pk__in=list(stay_ids)).select_related(
            "person", "site", "room", "category", "rule"
        )
    )
    if len(stays) != len(set(stay_ids)) or any(
        not permissions.in_scope(actor, s.scope_path) for s in stays
    ):
        raise NotFound()
    position = {pk: i for i, pk in enumerate(stay_ids)}
    stays.sort(key=lambda s: position[s.pk])
    ended = [s for s in stays if not s.is_open]
    if ended:
        raise Conflict(
            _("%(n)s of these stays have ended; orders are issued for open stays.")
            % {"n": len(ended)},
            code="stay_ended",
        )
    return stays


@transaction.atomic
def orders_issue(
    *, actor: Actor, stay_ids: Sequence[int], language: str | None = None
) -> list[QuarantineOrder]:
    """Issue the quarantine orders of open stays (one per stay and language;
    issuing again returns the existing order)."""
    permissions.require(actor, "quarantine.orders")
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed(fields={"language": _("Choose Chinese or English.")})
    stays = _order_stays(actor, stay_ids)
    today = timezone.localdate()
    wanted = {s.pk: language or s.person.language or "zh-hans" for s in stays}
    existing = {
        (o.stay_id, o.language): o
        for o in QuarantineOrder.objects.filter(stay_id__in=list(wanted)).select_related("template")
    }
    missing = [s for s in stays if (s.pk, wanted[s.pk]) not in existing]
    templates = {
        lang: rules.document_template(DocumentTemplate.Kind.ORDER, lang, today)
        for lang in LANGUAGES
    }
    numbers = next_number("order", len(missing)) if missing else []
    new = [
        QuarantineOrder(
            stay=s,
            number=num,
            language=wanted[s.pk],
            template=templates[wanted[s.pk]],
            issued_by=acting_user(actor),
            scope_path=s.scope_path,
        )
        for s, num in zip(missing, numbers, strict=True)
    ]
    QuarantineOrder.objects.bulk_create(new, batch_size=1000)
    audit_record_many(
        actor=actor,
        action="quarantine.order_issue",
        entries=[
            {
                "object_type": "quarantine.stay",
                "object_id": o.stay_id,
                "scope_path": o.scope_path,
                "person_id": o.stay.person_id,
                "changes": {"order": [None, o.number]},
            }
            for o in new
        ],
    )
    by_stay = {
        **{k[0]: v for k, v in existing.items() if k[1] == wanted[k[0]]},
        **{o.stay_id: o for o in new},
    }
    return [by_stay[s.pk] for s in stays]


def orders_pdf(orders: Sequence[QuarantineOrder]) -> bytes:
    """One PDF with every order, one per page (a bulk print)."""
    stays = {
        s.pk: s
        for s in Stay.objects.filter(pk__in=[o.stay_id for o in orders]).select_related(
            "person", "site", "room", "category", "rule"
        )
    }
    doc = PdfWriter(title=_("Quarantine orders"), subject=", ".join(o.number for o in orders[:3]))
    for i, order in enumerate(orders):
        if i:
            doc.new_page()
        stay = stays[order.stay_id]
        ctx = _context(stay, order.language, order.number)
        _render(
            doc,
            order.template,
            ctx,
            order.number,
            order.language,
            timezone.localtime(order.created_at).date(),
        )
    return doc.finish()


def order_access(actor: Actor, order_id: int) -> QuarantineOrder:
    permissions.require(actor, "quarantine.view")
    order = QuarantineOrder.objects.select_related("template").filter(pk=order_id).first()
    if order is None or not permissions.in_scope(actor, order.scope_path):
        raise NotFound()
    return order


def certificate_pdf(
    actor: Actor, stay_id: int, *, language: str | None = None
) -> tuple[bytes, str]:
    """The release certificate of a released stay (PDF, file name)."""
    permissions.require(actor, "quarantine.view")
    stay = (
        Stay.objects.select_related("person", "site", "room", "category", "rule")
        .filter(pk=stay_id)
        .first()
    )
    if stay is None or not permissions.in_scope(actor, stay.scope_path):
        raise NotFound()
    if stay.state != Stay.State.RELEASED or not stay.certificate_number:
        raise Conflict(_("A certificate exists only for a released person."), code="not_released")
    lang = language if language in LANGUAGES else (stay.person.language or "zh-hans")
    released = timezone.localtime(stay.ended_at).date() if stay.ended_at else timezone.localdate()
    template = rules.document_template(DocumentTemplate.Kind.CERTIFICATE, lang, released)
    ctx = _context(stay, lang, stay.certificate_number)
    ctx["end"] = _local_date(released, lang)
    doc = PdfWriter(title=template.title)
    _render(doc, template, ctx, stay.certificate_number, lang, released)
    return doc.finish(), f"{stay.certificate_number}.pdf"
