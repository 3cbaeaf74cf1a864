"""Streaming exports of people (masked CSV)."""

from ninja import Router

router = Router(tags=["exports"])
