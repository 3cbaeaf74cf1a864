"""Helpers for the bulk paths (imports, offline batches).

``gc_paused``: the cyclic garbage collector stays off while a bulk operation runs.
A batch of 20,000 scans or a lab's file of 50,000 results builds a few hundred
thousand short-lived tuples and dicts; each allocation burst triggers collections
that walk every tracked object of the process (Django's included), which cost
about a seventh of the time of a sampling batch. None of these objects form
cycles, so reference counting frees them as before; the collector is switched
back on when the outermost bulk operation of the process ends.
"""

from __future__ import annotations

import gc
import threading
from contextlib import ContextDecorator
from typing import Any

_lock = threading.Lock()
_depth = 0
_we_disabled = False


class _GcPaused(ContextDecorator):
    def __enter__(self) -> _GcPaused:
        global _depth, _we_disabled
        with _lock:
            if _depth == 0 and gc.isenabled():
                gc.disable()
                _we_disabled = True
            _depth += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        global _depth, _we_disabled
        with _lock:
            _depth -= 1
            if _depth == 0 and _we_disabled:
                _we_disabled = False
                gc.enable()


def gc_paused() -> _GcPaused:
    """Context manager (or decorator): no cyclic collection inside; nestable and
    shared by threads (the collector comes back when the last one leaves)."""
    return _GcPaused()
