"""Logging filters of the settings' LOGGING."""

from __future__ import annotations

import logging


class QuietClientErrors(logging.Filter):
    """A refused request (403, 404: the user's mistake, not the server's) is logged as
    one line, without the traceback Django attaches; server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
