from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "fangkong.screening"
    label = "screening"
    verbose_name = _("Mass screening: rounds, tubes, labs, coverage")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    # The URL name must exist before the entry is shown (see core.context_processors).
    nav_entry = (_("Screening"), "screening:overview", "screening.view")

    def ready(self) -> None:
        from fangkong.core import fastpaths
        from fangkong.screening import listeners

        listeners.connect()
        fastpaths.register("screening.scan", _fast_path, order=30)


def _fast_path(app: Any) -> Any:
    """The sampler's scan, answered in front of Django (core.fastpaths)."""
    from fangkong.screening.wsgi import ScanFastPath

    return ScanFastPath(app)
