"""SMS backends, chosen by ``settings.FANGKONG_SMS_BACKEND`` like Django's e-mail backends.

A backend has one method, ``send(sms) -> provider message id``. It raises
``TransientError`` when trying again later may succeed (time-outs, 5xx, 429) and
``PermanentError`` when it will not (a 4xx refusal, a malformed number); the
worker retries the first with exponential backoff and fails the second at once.

Exactly once toward the gateway: every message carries its own ``reference``,
which a backend passes on (the HTTP gateway also as an ``Idempotency-Key``
header). After a worker died between handing a message over and recording the
answer, the message is reconciled by that reference: ``lookup(reference)`` says
whether the gateway has it (then it is recorded as sent, never sent again) or not
(then it is sent). A backend that cannot look up raises ``LookupUnsupported``; if
its gateway drops a second message with a reference it has seen
(``idempotent = True``), sending again is safe, otherwise the message is marked
"handed over, unconfirmed" for a person to decide.

- ``LocmemBackend``: keeps messages in ``fangkong.notify.backends.outbox`` (tests).
- ``ConsoleBackend``: prints each message, phone masked (development).
- ``FileBackend``: appends one JSON line per message to a file under
  ``FANGKONG_SMS_FILE_PATH`` (the demo's "phone").
- ``HttpGatewayBackend``: posts to an SMS gateway (``FANGKONG_SMS_GATEWAY``).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from fangkong.core.crypto import mask


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    body: str
    reference: str  # our message reference, echoed by delivery callbacks
    extra: dict[str, Any] = field(default_factory=dict)


class SendError(Exception):
    """Sending failed; ``str(exc)`` never contains the phone number."""


class TransientError(SendError):
    pass


class PermanentError(SendError):
    pass


class LookupUnsupported(SendError):
    """The gateway cannot tell whether it has a message."""


class BaseBackend:
    #: The gateway drops a message whose reference it has already accepted.
    idempotent = False

    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, sms: Sms) -> str:
        raise NotImplementedError

    def lookup(self, reference: str) -> str | None:
        """The provider id of the message the gateway accepted with ``reference``, or
        None if it accepted none. Raises ``LookupUnsupported`` when the gateway cannot
        tell, ``TransientError`` when it cannot now."""
        raise LookupUnsupported(f"{type(self).__name__} cannot look messages up")


def get_backend(path: str | None = None, **options: Any) -> BaseBackend:
    cls = import_string(path or settings.FANGKONG_SMS_BACKEND)
    backend: BaseBackend = cls(**options)
    return backend


# --- Local backends -------------------------------------------------------

outbox: list[Sms] = []
_outbox_lock = threading.Lock()


class LocmemBackend(BaseBackend):
    def send(self, sms: Sms) -> str:
        with _outbox_lock:
            outbox.append(sms)
        return f"locmem-{sms.reference}"

    def lookup(self, reference: str) -> str | None:
        with _outbox_lock:
            found = any(sms.reference == reference for sms in outbox)
        return f"locmem-{reference}" if found else None


class ConsoleBackend(BaseBackend):
    def send(self, sms: Sms) -> str:
        stream = self.options.get("stream") or sys.stdout
        stream.write(f"SMS to {mask(sms.to, 3, 4)} [{sms.reference}]: {sms.body}\n")
        stream.flush()
        return f"console-{sms.reference}"


class FileBackend(BaseBackend):
    """One JSON line per message in ``<FANGKONG_SMS_FILE_PATH>/sms-YYYY-MM-DD.jsonl``."""

    _lock = threading.Lock()

    def send(self, sms: Sms) -> str:
        directory = Path(self.options.get("path") or settings.FANGKONG_SMS_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        provider_id = f"file-{uuid.uuid4().hex[:16]}"
        line = json.dumps(
            {
                "time": now.isoformat(),
                "to": sms.to,
                "text": sms.body,
                "reference": sms.reference,
                "provider_message_id": provider_id,
            },
            ensure_ascii=False,
        )
        with self._lock, open(directory / f"sms-{now:%Y-%m-%d}.jsonl", "a", encoding="utf-8") as f:
            f.write(line + "\n")
        return provider_id

    def lookup(self, reference: str) -> str | None:
        directory = Path(self.options.get("path") or settings.FANGKONG_SMS_FILE_PATH)
        needle = f'"reference": "{reference}"'
        with self._lock:
            for path in sorted(directory.glob("sms-*.jsonl"), reverse=True):
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        if needle in line:
                            return str(json.loads(line)["provider_message_id"])
        return None


# --- HTTP gateway ---------------------------------------------------------

DEFAULT_REQUEST_TEMPLATE: dict[str, Any] = {
    "to": "{phone}",
    "text": "{text}",
    "reference": "{message_id}",
}
TRANSIENT_STATUSES = {408, 425, 429}


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Substitute ``{phone}``, ``{text}``, ``{message_id}`` in every string of a template."""
    if isinstance(value, str):
        out = value
        for key, replacement in values.items():
            out = out.replace("{" + key + "}", replacement)
        return out
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class HttpGatewayBackend(BaseBackend):
    """Send through an HTTP SMS gateway. Options (``FANGKONG_SMS_GATEWAY``):

    ``url`` (required), ``method`` (POST), ``username``/``password`` (HTTP Basic),
    ``token`` (``Authorization: Bearer``), ``headers`` (dict), ``encoding``
    (``json`` or ``form``), ``request_template`` (dict or JSON text whose strings may
    hold ``{phone}``, ``{text}``, ``{message_id}``), ``response_id_field`` (dotted
    path of the provider id in a JSON answer, default ``id``), ``timeout`` (s),
    ``idempotency_header`` (the header carrying our reference, default
    ``Idempotency-Key``; empty for none), ``idempotent`` (the gateway drops a repeated
    reference), ``lookup_url`` (``GET`` it with ``{message_id}`` filled in: 2xx with
    the provider id when the gateway has the message, 404 when it has not).

    2xx is success; 408, 425, 429, 5xx and network errors are transient; any other
    status is a permanent refusal.
    """

    def __init__(self, **options: Any) -> None:
        merged = {**getattr(settings, "FANGKONG_SMS_GATEWAY", {}), **options}
        super().__init__(**merged)
        self.idempotent = bool(merged.get("idempotent"))

    def _auth_headers(self) -> dict[str, str]:
        opts = self.options
        if opts.get("username"):
            pair = f"{opts['username']}:{opts.get('password', '')}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if opts.get("token"):
            return {"Authorization": f"Bearer {opts['token']}"}
        return {}

    def lookup(self, reference: str) -> str | None:
        template = str(self.options.get("lookup_url") or "")
        if not template.startswith(("http://", "https://")):
            raise LookupUnsupported("FANGKONG_SMS_GATEWAY lookup_url is not set")
        url = template.replace("{message_id}", urllib.parse.quote(reference, safe=""))
        headers = {**(self.options.get("headers") or {}), **self._auth_headers()}
        request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310
        timeout = float(self.options.get("timeout") or 10)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise TransientError(f"gateway look-up answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientError(f"gateway unreachable: {reason}") from exc
        try:
            provider_id = _dig(
                json.loads(raw or b"null"), self.options.get("response_id_field", "id")
            )
        except ValueError:
            provider_id = None
        return str(provider_id) if provider_id not in (None, "") else reference

    def _request(self, sms: Sms) -> urllib.request.Request:
        opts = self.options
        url = opts.get("url") or ""
        if not url.startswith(("http://", "https://")):
            raise PermanentError("FANGKONG_SMS_GATEWAY url is not set or not http(s)")
        template = opts.get("request_template") or DEFAULT_REQUEST_TEMPLATE
        if isinstance(template, str):
            template = json.loads(template)
        payload = _fill(template, {"phone": sms.to, "text": sms.body, "message_id": sms.reference})
        headers = {"Accept": "application/json", **(opts.get("headers") or {})}
        if opts.get("encoding", "json") == "form":
            data = urllib.parse.urlencode(payload).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            data = json.dumps(payload, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers.update(self._auth_headers())
        idempotency_header = opts.get("idempotency_header", "Idempotency-Key")
        if idempotency_header:
            headers[str(idempotency_header)] = sms.reference
        return urllib.request.Request(  # noqa: S310 (scheme checked above)
            url, data=data, headers=headers, method=opts.get("method", "POST")
        )

    def send(self, sms: Sms) -> str:
        request = self._request(sms)
        timeout = float(self.options.get("timeout") or 10)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            message = f"gateway answered HTTP {status}: {detail}".strip().rstrip(":")
            if status >= 500 or status in TRANSIENT_STATUSES:
                raise TransientError(message) from exc
            raise PermanentError(message) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientError(f"gateway unreachable: {reason}") from exc
        if not 200 <= status < 300:
            raise PermanentError(f"gateway answered HTTP {status}")
        provider_id = None
        try:
            provider_id = _dig(
                json.loads(raw or b"null"), self.options.get("response_id_field", "id")
            )
        except ValueError:
            provider_id = None
        return str(provider_id) if provider_id not in (None, "") else sms.reference
