"""The self-scan check-in answered in front of Django (see ``core.fastpaths``).

``POST /api/v1/checkins`` in its common case: a resident's phone sends the venue
code and their personal code, nothing else (no dependants, no time, no
credentials, no cookies). The fast path reads the JSON body and calls the same
service as the API (``checkin_scan``: one statement on PostgreSQL), and answers
the same 201 body. Everything else goes to Django with the body as it came:
staff-assisted scans, family check-ins, scans with a time, malformed bodies, and
every refusal (forged, revoked or unknown codes: Django repeats the check and
explains it in the reader's language; a refusal writes nothing).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from fangkong.core.errors import ApplicationError
from fangkong.core.fastpaths import Answer, FastPath

CHECKIN_PATH = "/api/v1/checkins"
MAX_BODY = 2048  # two tokens of at most 400 characters each, with room to spare


class CheckinFastPath(FastPath):
    method = "POST"
    path = CHECKIN_PATH

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        body = self.read_json(environ, MAX_BODY)
        if not isinstance(body, dict) or not set(body) <= {"venue_token", "person_token"}:
            return None
        venue_token, person_token = body.get("venue_token"), body.get("person_token")
        if not (
            isinstance(venue_token, str)
            and isinstance(person_token, str)
            and 0 < len(venue_token) <= 400
            and 0 < len(person_token) <= 400
        ):
            return None
        from fangkong.investigation.services.checkins import checkin_scan

        language = self.language(environ)
        try:
            with self.request_scope(environ), translation.override(language):
                result = checkin_scan(venue_token=venue_token, person_token=person_token)
        except ApplicationError:
            return None  # Django explains (nothing was written)
        out = json.dumps(
            {
                "venue_id": result.venue_id,
                "venue_name": result.venue_name,
                "time": result.time,
                "visits": [{"id": v.id, "extended": v.extended} for v in result.visits],
            },
            cls=DjangoJSONEncoder,
        ).encode()
        return self.respond(environ, "201 Created", out, language=language)
