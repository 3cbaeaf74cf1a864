"""Helpers of the four-eyes tests: staff who manage staff *and* approve, as the
default roles had it before issue 22 (and an older database or an authority's own
roles may still have it), and account creation through the API."""

from __future__ import annotations

import json
from typing import Any

from fangkong.conftest import client_for
from fangkong.core.models import Role

PASSWORD = "Tr1cky-pass-phrase"


def managing_staff(user: Any) -> Any:
    """Give ``user`` ``staff.manage`` besides their roles, as the old defaults did
    (written past the checks, like the rows of an old database)."""
    role, _ = Role.objects.get_or_create(
        code="old_staff_office",
        defaults={
            "name_zh": "人事",
            "name_en": "Staff office",
            "capabilities": ["staff.manage", "jurisdiction.view"],
        },
    )
    user.staff.roles.add(role)
    user.refresh_from_db()  # forget the cached capabilities
    return user


def create_account(creator: Any, node: Any, *roles: str, username: str) -> tuple[int, Any]:
    """``POST /api/v1/staff`` as ``creator``: (status code, the new user or None)."""
    from django.contrib.auth import get_user_model

    r = client_for(creator).post(
        "/api/v1/staff",
        json.dumps(
            {
                "username": username,
                "password": PASSWORD,
                "jurisdiction_id": node.pk,
                "roles": list(roles),
                "display_name": username,
            }
        ),
        content_type="application/json",
    )
    return r.status_code, get_user_model().objects.filter(username=username).first()
