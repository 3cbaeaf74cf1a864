from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HeadquartersConfig(AppConfig):
    name = "fangkong.headquarters"
    label = "headquarters"
    verbose_name = _("Headquarters: dashboard, tasks, supervision and daily report")
    # Entry in the staff side navigation: (label, URL name, capability needed).
    nav_entry = (_("Headquarters"), "headquarters:inbox", "task.handle")

    def ready(self) -> None:
        from fangkong.core import events
        from fangkong.headquarters.services.aggregates import on_case_fact

        # The dashboard's cached case cells follow the cases (idempotent recounts).
        events.subscribe("case.confirmed", on_case_fact)
        events.subscribe("case.excluded", on_case_fact)
        events.subscribe("case.reclassified", on_case_fact)
