"""Roles and capabilities of the status, screening, zones and portal modules.

Creates the shipped roles that are missing (status team, portal reviewer, zone
team member) and adds the new capabilities of ``roles.json`` to existing roles
with the same code. Nothing is removed, so an authority's own changes stay.
"""

import importlib

from django.db import migrations

_defaults = importlib.import_module("fangkong.core.migrations.0002_default_roles_and_key_groups")
_grant = importlib.import_module("fangkong.core.migrations.0005_grant_new_default_capabilities")


def forwards(apps, schema_editor):
    _defaults.load_defaults(apps, schema_editor)
    _grant.grant(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_grant_new_default_capabilities")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
