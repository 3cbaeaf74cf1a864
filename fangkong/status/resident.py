"""Resident identity for the public self-service pages: document number + SMS code.

The resident types their document number; if it belongs to a registered person
with a phone, a one-time code goes to that phone through ``notify`` (template
``one_time_code``). The answer never says whether the document is registered.
Too many wrong codes lock the document out for a while (numbers are data:
``StatusPolicy``). The verified person id lives in the session; the portal's
self-service pages use ``resident_person_id`` and ``resident_required``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.audit import audit_record
from fangkong.core.crypto import lookup_hash
from fangkong.core.errors import ValidationFailed
from fangkong.core.selectors import person_find_by_document
from fangkong.status import rules
from fangkong.status.jobs import deliver_resident_code
from fangkong.status.models import ResidentChallenge

RESIDENT_LOGIN_URL_NAME = "status:resident_login"
SESSION_KEY = "fangkong_resident"
CODE_MINUTES = 5
CODE_DIGITS = 6
SEND_LIMIT = 5  # codes per document ...
SEND_WINDOW_MINUTES = 15  # ... in this many minutes


class LockedOut(ValidationFailed):
    code = "locked_out"
    status = 429


def _doc_hash(number: str) -> str:
    return lookup_hash("doc", number.strip().upper())


def _code_hash(challenge_salt: str, code: str) -> str:
    return hashlib.sha256(f"{challenge_salt}:{code}".encode()).hexdigest()


def _locked_until(doc_hash: str, now: dt.datetime) -> dt.datetime | None:
    row = (
        ResidentChallenge.objects.filter(doc_hash=doc_hash, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return row


def _locked_error(until: dt.datetime) -> LockedOut:
    minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
    return LockedOut(
        _("Too many wrong codes. Try again in %(n)s minutes.") % {"n": minutes},
        fields={"code": _("Locked for %(n)s minutes.") % {"n": minutes}},
    )


def resident_code_send(*, doc_number: str) -> None:
    """Send a one-time code to the phone of the person with this document (if any).

    Says nothing about whether the document is registered, not even by the time
    it takes: a registered and an unknown document cost the request the same
    statements (the checks, one look-up, one challenge row) and one queued
    delivery. The code is made and sent by the worker (``resident_code_deliver``),
    which finds nothing to send for an unknown document."""
    doc_number = (doc_number or "").strip().upper()
    if not 6 <= len(doc_number) <= 40:
        raise ValidationFailed(fields={"doc_number": _("Enter your ID document number.")})
    now = timezone.now()
    doc_hash = _doc_hash(doc_number)
    until = _locked_until(doc_hash, now)
    if until is not None:
        raise _locked_error(until)
    recent = ResidentChallenge.objects.filter(
        doc_hash=doc_hash, created_at__gte=now - dt.timedelta(minutes=SEND_WINDOW_MINUTES)
    ).count()
    if recent >= SEND_LIMIT:  # nobody floods a phone with codes
        raise LockedOut(
            _("Too many codes were asked for this document. Try again in %(n)s minutes.")
            % {"n": SEND_WINDOW_MINUTES},
            fields={"doc_number": _("Too many codes asked; wait a while.")},
        )
    person = person_find_by_document("prc_id", doc_number)
    # Recorded for every document number (an unknown one can never be answered),
    # so the send limit and the wrong-code lock-out behave alike for all. Written
    # (committed) before its delivery is queued, so the worker finds it.
    challenge = ResidentChallenge.objects.create(
        doc_hash=doc_hash,
        person=person if person is not None and person.phone_encrypted else None,
        code_hash="",
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
    )
    deliver_resident_code(challenge.pk)


def resident_code_deliver(*, challenge_id: int) -> bool:
    """The worker's half of ``resident_code_send``: make the code of a challenge
    and send it by SMS. Nothing for an unknown document, a used or expired
    challenge, or one whose code was already made (a retried job sends once)."""
    from fangkong.notify.services import notify_system

    now = timezone.now()
    with transaction.atomic():
        challenge = (
            ResidentChallenge.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(
                pk=challenge_id,
                person__isnull=False,
                used=False,
                expires_at__gt=now,
                code_hash="",
            )
            .first()
        )
        if challenge is None or challenge.person is None:
            return False
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge.code_hash = _code_hash(f"{challenge.pk}:{challenge.doc_hash}", code)
        challenge.save(update_fields=["code_hash"])
        notify_system(
            person=challenge.person,
            purpose="one_time_code",
            template_code="one_time_code",
            context={"code": code, "minutes": CODE_MINUTES},
        )
    return True


def resident_code_verify(request: HttpRequest, *, doc_number: str, code: str) -> int:
    """Check the code; on success the session belongs to that resident."""
    now = timezone.now()
    doc_hash = _doc_hash(doc_number or "")
    policy = rules.policy()
    error: Exception | None = None
    person_id: int | None = None
    with transaction.atomic():
        until = _locked_until(doc_hash, now)
        if until is not None:
            raise _locked_error(until)
        challenge = (
            ResidentChallenge.objects.select_for_update()
            .filter(doc_hash=doc_hash, used=False, expires_at__gt=now)
            .order_by("-pk")
            .first()
        )
        wrong = ValidationFailed(fields={"code": _("This code is wrong or has expired.")})
        if challenge is None:
            raise wrong
        given = _code_hash(f"{challenge.pk}:{doc_hash}", (code or "").strip())
        if challenge.person_id is not None and hmac.compare_digest(challenge.code_hash, given):
            challenge.used = True
            challenge.save(update_fields=["used"])
            person_id = challenge.person_id
        else:
            # Counted, and committed: the error is raised after the transaction.
            challenge.attempts += 1
            fields = ["attempts"]
            error = wrong
            if challenge.attempts >= policy.otp_max_attempts:
                challenge.locked_until = now + dt.timedelta(minutes=policy.otp_lock_minutes)
                challenge.used = True
                fields += ["locked_until", "used"]
                audit_record(
                    actor=None,
                    action="status.resident_locked",
                    obj=challenge,
                    person_id=challenge.person_id,
                    changes={"attempts": [None, challenge.attempts]},
                )
                error = _locked_error(challenge.locked_until)
            challenge.save(update_fields=fields)
    if error is not None or person_id is None:
        raise error or ValidationFailed()
    request.session.cycle_key()
    request.session[SESSION_KEY] = person_id
    return person_id


def resident_person_id(request: HttpRequest) -> int | None:
    """The verified resident of this session."""
    value = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    return int(value) if value is not None else None


def resident_logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def resident_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Redirect to the sign-in page (with ``?next=``) unless a resident is verified."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if resident_person_id(request) is None:
            url = reverse(RESIDENT_LOGIN_URL_NAME)
            return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
