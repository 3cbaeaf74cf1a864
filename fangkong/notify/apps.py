from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "fangkong.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from fangkong.notify import checks, jobs, listeners  # noqa: F401  (checks and tasks)

        listeners.connect()
