"""Load the shipped quarantine categories and rules, symptoms, order and
certificate templates (Chinese and English), the closed-loop rule and the bed
capacity rule (fixtures/defaults.json).

Only what is missing is created: an authority's edited rows are never touched.
"""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"


def _date(value):
    return dt.date.fromisoformat(value)


def load_defaults(apps, schema_editor):
    get = apps.get_model
    StayCategory = get("quarantine", "StayCategory")
    QuarantineRule = get("quarantine", "QuarantineRule")
    Symptom = get("quarantine", "Symptom")
    DocumentTemplate = get("quarantine", "DocumentTemplate")
    ClosedLoopRule = get("quarantine", "ClosedLoopRule")
    CapacityRule = get("quarantine", "CapacityRule")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for row in data["categories"]:
        row = dict(row)
        StayCategory.objects.get_or_create(code=row.pop("code"), defaults=row)
    for row in data["rules"]:
        row = dict(row)
        category = StayCategory.objects.get(code=row.pop("category"))
        QuarantineRule.objects.get_or_create(
            category=category,
            disease_code=row.pop("disease_code"),
            version=1,
            defaults={**row, "effective_from": dt.date(2020, 1, 1)},
        )
    for row in data["symptoms"]:
        row = dict(row)
        Symptom.objects.get_or_create(code=row.pop("code"), defaults=row)
    for row in data["templates"]:
        row = dict(row)
        if not DocumentTemplate.objects.filter(kind=row["kind"], language=row["language"]).exists():
            row["effective_from"] = _date(row["effective_from"])
            DocumentTemplate.objects.create(**row)
    if not ClosedLoopRule.objects.exists():
        for row in data["closed_loop_rules"]:
            ClosedLoopRule.objects.create(**{**row, "effective_from": _date(row["effective_from"])})
    if not CapacityRule.objects.exists():
        for row in data["capacity_rules"]:
            CapacityRule.objects.create(**{**row, "effective_from": _date(row["effective_from"])})


class Migration(migrations.Migration):
    dependencies = [("quarantine", "0003_stays_monitoring_orders_staff_hospitals")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
