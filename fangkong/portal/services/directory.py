"""The services directory (公共服务导航) and its dead-link checker."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import permissions
from fangkong.core.audit import audit_record
from fangkong.core.errors import ValidationFailed
from fangkong.core.types import Actor
from fangkong.portal import pagecache
from fangkong.portal.models import ServiceLink
from fangkong.portal.sanitise import plain_text

CHECK_TIMEOUT = 5.0


@transaction.atomic
def link_save(
    *,
    actor: Actor,
    category: str,
    title_zh: str,
    title_en: str,
    url: str = "",
    phone: str = "",
    position: int = 0,
    link: ServiceLink | None = None,
) -> ServiceLink:
    permissions.require(actor, "portal.edit")
    if category not in ServiceLink.Category.values:
        raise ValidationFailed(fields={"category": _("Choose a category.")})
    if not (url or phone):
        raise ValidationFailed(fields={"url": _("Give an address or a phone number.")})
    if url and not url.startswith(("https://", "http://")):
        raise ValidationFailed(
            fields={"url": _("The address must start with https:// or http://.")}
        )
    link = link or ServiceLink()
    link.category, link.position = category, position
    link.title_zh, link.title_en = plain_text(title_zh)[:100], plain_text(title_en)[:100]
    link.url, link.phone = url, plain_text(phone)[:20]
    link.dead, link.last_status = False, ""
    link.save()
    audit_record(actor=actor, action="portal.link.save", obj=link, changes={"url": [None, url]})
    pagecache.bump()
    return link


def _probe(url: str) -> tuple[bool, str]:
    """(alive, status text) of one address: HEAD, then GET if HEAD is refused."""
    for method in ("HEAD", "GET"):
        if not url.startswith(("https://", "http://")):
            return False, "scheme"
        req = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            url, method=method, headers={"User-Agent": "fangkong-linkcheck"}
        )
        try:
            with urllib.request.urlopen(req, timeout=CHECK_TIMEOUT) as resp:  # noqa: S310 - http(s) only
                return resp.status < 400, str(resp.status)
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue
            return False, str(exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return False, type(exc).__name__
    return False, "?"


def links_check(*, probe: Any = None) -> dict[str, int]:
    """Check every link with an address; flag those that do not answer 2xx/3xx."""
    probe = probe or _probe
    counts = {"checked": 0, "dead": 0}
    for link in ServiceLink.objects.exclude(url=""):
        alive, status = probe(link.url)
        ServiceLink.objects.filter(pk=link.pk).update(
            dead=not alive, last_status=status[:40], last_checked_at=timezone.now()
        )
        counts["checked"] += 1
        counts["dead"] += 0 if alive else 1
    return counts
