"""API for bulk imports and exports of the jurisdiction tree and people (multipart uploads)."""

from ninja import Router

router = Router(tags=["imports"])
