from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "fangkong.supplies"
    label = "supplies"
    verbose_name = _("Supplies")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    nav_entry = (_("Supplies"), "supplies:overview", "supplies.view")

    def ready(self) -> None:
        from fangkong.supplies import listeners

        listeners.connect()
