from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "fangkong.portal"
    label = "portal"
    verbose_name = _("Public portal: bulletins, comments, public information")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    # The URL name must exist before the entry is shown (see core.context_processors).
    nav_entry = (_("Portal"), "portal:overview", "portal.edit")
