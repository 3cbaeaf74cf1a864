from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EntryConfig(AppConfig):
    name = "fangkong.entry"
    label = "entry"
    verbose_name = _("Entry control: checkpoints, arrivals, transfers")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    nav_entry = (_("Entry control"), "entry:arrivals", "entry.view")
