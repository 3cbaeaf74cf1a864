"""API tokens get an end and can be revoked (issue 22).

Tokens made before without an end now end ``FANGKONG_API_TOKEN_DAYS`` after this
migration runs (not after their creation: devices in use keep working for that
long). The shipped system administrator role gets ``token.revoke`` (revoke the
tokens of the staff of their area); an authority's own roles are left alone.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forward(apps, schema_editor):
    ApiToken = apps.get_model("core", "ApiToken")
    end = timezone.now() + dt.timedelta(days=settings.FANGKONG_API_TOKEN_DAYS)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=end)
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code="sysadmin"):
        if "token.revoke" not in role.capabilities:
            role.capabilities = [*role.capabilities, "token.revoke"]
            role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("core", "0010_audit_refuses_truncate")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
