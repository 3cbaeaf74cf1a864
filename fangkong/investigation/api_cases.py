"""API: diseases, cases, trajectories, contacts, follow-up, clusters."""

from ninja import Router

router = Router(tags=["investigation"])
