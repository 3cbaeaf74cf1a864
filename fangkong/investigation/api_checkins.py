"""API: venues and venue codes, check-ins, co-presence matching."""

from ninja import Router

router = Router(tags=["check-ins"])
