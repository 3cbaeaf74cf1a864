"""Notification API (batches, delivery callbacks)."""

from ninja import Router

router = Router(tags=["notify"])
