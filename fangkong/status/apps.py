from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "fangkong.status"
    label = "status"
    verbose_name = _("Risk status: reasons, overrides, appeals")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    # The URL name must exist before the entry is shown (see core.context_processors).
    nav_entry = (_("Risk status"), "status:overview", "status.view")

    def ready(self) -> None:
        from fangkong.core import fastpaths
        from fangkong.status import facts

        fastpaths.register("status.check", _fast_path, order=10)
        facts.connect()


def _fast_path(app: Any) -> Any:
    """The public status check, answered in front of Django (core.fastpaths)."""
    from fangkong.status.wsgi import StatusCheckFastPath

    return StatusCheckFastPath(app)
