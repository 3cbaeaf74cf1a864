"""The public status check answered in front of Django (see ``core.fastpaths``).

``GET /api/v1/status/check?token=...`` in its common case: an anonymous check of a
valid token whose status is in the cache, answered with one cache round trip
(rate-limit counter and status entry together, see ``fastpath``). Handed to
Django unchanged: staff scanners (they get the masked name), forged or expired
tokens (translated 400), cache misses or stale entries (database), rate-limited
addresses (429). When it hands over after counting, the count travels in the
environ so the address is not counted twice.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from django.utils import translation

from fangkong.core.errors import ApplicationError
from fangkong.core.fastpaths import Answer, FastPath
from fangkong.core.middleware import client_ip_from_meta
from fangkong.status import fastpath, rules
from fangkong.status.check import check_body, emergency_line, fresh
from fangkong.status.tokens import person_id_from_status_token

CHECK_PATH = "/api/v1/status/check"
COUNTED = "fangkong.status.counted"  # environ key: this request's rate-limit count


class StatusCheckFastPath(FastPath):
    method = "GET"
    path = CHECK_PATH

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._texts: dict[tuple[int, str, str], tuple[str, str, str, str]] = {}

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        token = ""
        for key, value in parse_qsl(environ.get("QUERY_STRING", "")):
            if key == "token":
                token = value
        try:
            pid = person_id_from_status_token(token)
        except ApplicationError:
            return None  # Django explains, in the reader's language
        count, entry = fastpath.lookup(client_ip_from_meta(environ), pid)
        environ[COUNTED] = count
        if count > rules.policy().check_rate_per_minute:
            return None
        if not fresh(entry):
            return None  # cache miss or stale: the database, through Django
        level_code, until = entry
        language = self.language(environ)
        body = json.dumps(
            check_body(*self._level_texts(level_code, language), until), ensure_ascii=False
        ).encode()
        return self.respond(
            environ, "200 OK", body, language=language, extra=(("Cache-Control", "no-store"),)
        )

    def _level_texts(self, level_code: str, language: str) -> tuple[str, str, str, str]:
        levels = rules.levels()  # the same dict until the rules memo refreshes
        key = (id(levels), level_code, language)
        texts = self._texts.get(key)
        if texts is None:
            with translation.override(language):
                lv = levels.get(level_code) or rules.lowest_level()
                texts = (lv.code, str(lv.name), lv.colour, emergency_line())
            if len(self._texts) > 256:
                self._texts.clear()
            self._texts[key] = texts
        return texts
