import os
from typing import Any

from django.core.wsgi import get_wsgi_application

from fangkong import envfile

envfile.load()  # var/demo.env outside production; the real environment wins
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
_django = get_wsgi_application()

from fangkong.core.fastpaths import wrap  # noqa: E402 - after Django is set up

# The hottest requests' common cases are answered in front of Django (core/fastpaths.py).
application: Any = wrap(_django)
