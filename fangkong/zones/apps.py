from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "fangkong.zones"
    label = "zones"
    verbose_name = _("Zoned control: zones, teams, door-step services")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    # The URL name must exist before the entry is shown (see core.context_processors).
    nav_entry = (_("Zones"), "zones:overview", "zone.view")

    def ready(self) -> None:
        from fangkong.core import crypto
        from fangkong.zones import listeners

        # Team members' phone numbers are re-encrypted with the people's on key rotation.
        crypto.register_encrypted("zones.TeamMember", "phone_encrypted", "phone_hash", "phone")
        # Door-step requests whose goods supplies delivered are done.
        listeners.connect()
