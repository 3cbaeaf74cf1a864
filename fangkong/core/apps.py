from typing import Any

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


def _revoke_tokens_at_sign_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from fangkong.core.services import api_tokens_revoke_at_sign_out

    api_tokens_revoke_at_sign_out(user=user)


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"
    verbose_name = _("Core: jurisdictions, people, staff, audit")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        # Huey's consumer only autodiscovers `tasks.py`; our apps keep their
        # background and periodic jobs in `jobs.py`, so register them here, for
        # the web processes and the worker alike.
        autodiscover_modules("jobs")
        # Signing out revokes the user's API tokens (issue 22: none outlives it).
        user_logged_out.connect(_revoke_tokens_at_sign_out, dispatch_uid="core.tokens_at_sign_out")
