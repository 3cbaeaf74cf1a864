"""SMS backends, chosen by ``settings.FANGKONG_SMS_BACKEND`` like Django's e-mail backends.

A backend has one method, ``send(sms) -> provider message id``. It raises
``TransientError`` when trying again later may succeed (time-outs, 5xx, 429) and
``PermanentError`` when it will not (a 4xx refusal, a malformed number); the
worker retries the first with exponential backoff and fails the second at once.

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


class BaseBackend:
    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, sms: Sms) -> str:
        raise NotImplementedError


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
    path of the provider id in a JSON answer, default ``id``), ``timeout`` (s).

    2xx is success; 408, 425, 429, 5xx and network errors are transient; any other
    status is a permanent refusal.
    """

    def __init__(self, **options: Any) -> None:
        merged = {**getattr(settings, "FANGKONG_SMS_GATEWAY", {}), **options}
        super().__init__(**merged)

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
        if opts.get("username"):
            pair = f"{opts['username']}:{opts.get('password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif opts.get("token"):
            headers["Authorization"] = f"Bearer {opts['token']}"
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
