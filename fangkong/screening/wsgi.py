"""The sampler's scan answered in front of Django (see ``core.fastpaths``).

``POST /api/v1/screening/scan`` in its common case: a sampling device with its
API token scans a person's code into an open tube (``{"barcode", "person_token"}``
and nothing else). On PostgreSQL the token and the scan go in one statement
(``tube_scan_by_token``); when it records nothing, or elsewhere, the token is checked
in one query (user, area, capabilities) and the same service as the API runs
(``tube_scan``). Everything else goes to
Django with the body as it came: sessions, staff-assisted registration by
document, scans with a time, and every refusal (closed or full tube, the person
twice, unknown codes, no permission, outside the area: Django answers them,
translated; a refused scan writes nothing).
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import translation

from fangkong.core.errors import ApplicationError
from fangkong.core.fastpaths import Answer, FastPath, bearer_token, token_principal

SCAN_PATH = "/api/v1/screening/scan"


class ScanFastPath(FastPath):
    method = "POST"
    path = SCAN_PATH
    token_auth = True

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        token = bearer_token(environ)
        body = self.read_json(environ)
        if not token or not isinstance(body, dict) or set(body) != {"barcode", "person_token"}:
            return None
        barcode, person_token = body["barcode"], body["person_token"]
        if not (
            isinstance(barcode, str)
            and isinstance(person_token, str)
            and len(barcode) <= 64
            and 0 < len(person_token) <= 400
        ):
            return None
        from fangkong.screening.services.sampling import tube_scan, tube_scan_by_token

        language = self.language(environ)
        try:
            with self.request_scope(environ), translation.override(language):
                # The common case in one statement, the token checked in it (PostgreSQL).
                out = tube_scan_by_token(token=token, barcode=barcode, person_token=person_token)
                if out is None:
                    actor = token_principal(token)
                    if actor is None:
                        return None  # Django answers 401
                    out = tube_scan(actor=actor, barcode=barcode, person_token=person_token)
        except ApplicationError:
            return None  # Django explains (nothing was written)
        raw = json.dumps(
            {
                "tube": out.tube,
                "person_id": out.person_id,
                "person_name": out.person_name,
                "added": out.added,
                "member_count": out.member_count,
                "capacity": out.capacity,
                "warning": str(out.warning),
            }
        ).encode()
        return self.respond(
            environ,
            "200 OK",
            raw,
            language=language,
            content_type="application/json; charset=utf-8",
        )
