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
        from fangkong.status import facts

        facts.connect()
