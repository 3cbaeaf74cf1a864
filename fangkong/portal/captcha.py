"""The comment captcha: a picture for every client, rate-limited per client.

Pages and the API alike hand out django-simple-captcha's image challenge (random
characters drawn with noise) and never its answer's question as text, which a
short script could read and solve. Each client address gets at most
``CHALLENGES_PER_WINDOW`` new challenges in ``WINDOW_SECONDS``; beyond that the
answer is "wait a few minutes" (429), so nobody farms challenges for a solver.
A challenge answers once (``challenge_passed``), right or wrong.
"""

from __future__ import annotations

from captcha.models import CaptchaStore
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.portal.services.comments import RateLimited

CHALLENGES_PER_WINDOW = 20
WINDOW_SECONDS = 600


def image_url(key: str) -> str:
    return f"/captcha/image/{key}/"


def challenge_new(address: str | None) -> str:
    """A new picture challenge for this client (its key), or ``RateLimited``."""
    counter = f"portal:captcha:{address or '-'}"
    if cache.add(counter, 1, WINDOW_SECONDS):
        count = 1
    else:
        try:
            count = cache.incr(counter)
        except ValueError:  # the window ended between add and incr: a new one
            cache.set(counter, 1, WINDOW_SECONDS)
            count = 1
    if count > CHALLENGES_PER_WINDOW:
        raise RateLimited(
            _("Too many verification codes were asked from your address; wait a few minutes.")
        )
    return str(CaptchaStore.generate_key())


def challenge_passed(key: str, answer: str) -> bool:
    """Whether ``answer`` solves the challenge ``key``; the challenge is used up."""
    deleted, _n = CaptchaStore.objects.filter(
        hashkey=key, response=(answer or "").strip().lower(), expiration__gt=timezone.now()
    ).delete()
    if not deleted:
        CaptchaStore.objects.filter(hashkey=key).delete()  # one try per challenge
    return bool(deleted)
