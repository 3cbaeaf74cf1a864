from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvestigationConfig(AppConfig):
    name = "fangkong.investigation"
    label = "investigation"
    verbose_name = _("Investigation: venues, cases, contacts")

    def ready(self) -> None:
        from fangkong.core import fastpaths, synth
        from fangkong.investigation import listeners
        from fangkong.investigation.services.venues import venues_bulk_load

        fastpaths.register("investigation.checkin", _fast_path, order=20)
        synth.register_loader("venues", venues_bulk_load)
        listeners.connect()


def _fast_path(app: Any) -> Any:
    """The venue check-in, answered in front of Django (core.fastpaths)."""
    from fangkong.investigation.wsgi import CheckinFastPath

    return CheckinFastPath(app)
