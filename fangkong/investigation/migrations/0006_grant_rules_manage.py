"""Existing default roles get the capabilities ``roles.json`` grants them since:
``rules.manage`` (city commanders add new versions of disease rules). The grant
is the core one (adds what is missing, removes nothing)."""

import importlib

from django.db import migrations

_grant = importlib.import_module("fangkong.core.migrations.0005_grant_new_default_capabilities")


class Migration(migrations.Migration):
    dependencies = [
        ("investigation", "0005_cases_contact_status_scope_index"),
        ("core", "0006_roles_for_status_screening_zones_portal"),
    ]

    operations = [migrations.RunPython(_grant.grant, migrations.RunPython.noop)]
