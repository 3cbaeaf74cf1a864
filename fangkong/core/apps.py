from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"
    verbose_name = _("Core: jurisdictions, people, staff, audit")

    def ready(self) -> None:
        # Huey's consumer only autodiscovers `tasks.py`; our apps keep their
        # background and periodic jobs in `jobs.py`, so register them here, for
        # the web processes and the worker alike.
        autodiscover_modules("jobs")
