from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine sites and medical treatment")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    nav_entry = (_("Quarantine"), "quarantine:overview", "quarantine.view")

    def ready(self) -> None:
        from fangkong.quarantine import events

        events.connect()
