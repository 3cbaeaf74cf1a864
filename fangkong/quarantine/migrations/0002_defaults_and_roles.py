"""Load the shipped acceptance checklist and tiered activation rule
(fixtures/defaults.json), and give the default roles the quarantine, hospital
and supplies capabilities of ``core/fixtures/roles.json`` (new roles such as
``medical_officer`` are created).

Only what is missing is created or added: an authority's edited rows and its
own grants are never touched.
"""

import datetime as dt
import importlib
import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"
_roles = importlib.import_module("fangkong.core.migrations.0002_default_roles_and_key_groups")
_grant = importlib.import_module("fangkong.core.migrations.0005_grant_new_default_capabilities")


def load_defaults(apps, schema_editor):
    AcceptanceItem = apps.get_model("quarantine", "AcceptanceItem")
    ActivationRule = apps.get_model("quarantine", "ActivationRule")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for row in data["acceptance_items"]:
        row = dict(row)
        AcceptanceItem.objects.get_or_create(code=row.pop("code"), defaults=row)
    if not ActivationRule.objects.exists():
        for row in data["activation_rules"]:
            row = dict(row)
            row["effective_from"] = dt.date.fromisoformat(row["effective_from"])
            ActivationRule.objects.create(**row)


def load_roles(apps, schema_editor):
    _roles.load_defaults(apps, schema_editor)
    _grant.grant(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("quarantine", "0001_sites_rooms_acceptance"),
        ("core", "0008_person_scope_count_index"),
    ]

    operations = [
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
        migrations.RunPython(load_roles, migrations.RunPython.noop),
    ]
