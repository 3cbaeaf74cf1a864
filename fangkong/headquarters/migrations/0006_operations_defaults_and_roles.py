"""Load the shipped inspection checklists and the rotation rule of frontline staff
(fixtures/operations.json) and give the default roles the supervision, duty and
accountability capabilities of ``core/fixtures/roles.json``.

Only what is missing is created or added: an authority's edited rows and its own
grants are never touched.
"""

import datetime as dt
import importlib
import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "operations.json"
_grant = importlib.import_module("fangkong.core.migrations.0005_grant_new_default_capabilities")


def load_defaults(apps, schema_editor):
    Checklist = apps.get_model("headquarters", "Checklist")
    ChecklistItem = apps.get_model("headquarters", "ChecklistItem")
    RotationRule = apps.get_model("headquarters", "RotationRule")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for row in data["checklists"]:
        on = dt.date.fromisoformat(row["effective_from"])
        checklist, created = Checklist.objects.get_or_create(
            code=row["code"],
            effective_from=on,
            defaults={"name_zh": row["name_zh"], "name_en": row["name_en"]},
        )
        if created:
            for i, (zh, en) in enumerate(row["items"], start=1):
                ChecklistItem.objects.create(checklist=checklist, position=i, text_zh=zh, text_en=en)
    if not RotationRule.objects.exists():
        for row in data["rotation_rules"]:
            row = dict(row)
            row["effective_from"] = dt.date.fromisoformat(row["effective_from"])
            RotationRule.objects.create(**row)


def load_roles(apps, schema_editor):
    _grant.grant(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("headquarters", "0005_inspections_accountability_duty_care")]

    operations = [
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
        migrations.RunPython(load_roles, migrations.RunPython.noop),
    ]
