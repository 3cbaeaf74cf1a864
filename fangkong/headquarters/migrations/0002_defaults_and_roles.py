"""Load the shipped escalation chain and assignment rules (fixtures/defaults.json)
and give the default roles the headquarters capabilities of ``core/fixtures/roles.json``.

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
    EscalationStep = apps.get_model("headquarters", "EscalationStep")
    AssignmentRule = apps.get_model("headquarters", "AssignmentRule")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    if not EscalationStep.objects.exists():
        for row in data["escalation_steps"]:
            row = dict(row)
            row["effective_from"] = dt.date.fromisoformat(row["effective_from"])
            EscalationStep.objects.create(**row)
    for row in data["assignment_rules"]:
        row = dict(row)
        on = dt.date.fromisoformat(row.pop("effective_from"))
        AssignmentRule.objects.get_or_create(kind=row["kind"], effective_from=on, defaults=row)


def load_roles(apps, schema_editor):
    _roles.load_defaults(apps, schema_editor)
    _grant.grant(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("headquarters", "0001_tasks_escalation_assignment"),
        ("core", "0008_person_scope_count_index"),
    ]

    operations = [
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
        migrations.RunPython(load_roles, migrations.RunPython.noop),
    ]
