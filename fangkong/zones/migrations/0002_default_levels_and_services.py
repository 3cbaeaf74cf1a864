"""Load the shipped zone levels, door-step service kinds and SMS templates
(fixtures/levels.json).

Only what is missing is created: an authority's edited rows are never touched.
"""

import json
import re
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "levels.json"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


def _placeholders(body):
    names = []
    for m in PLACEHOLDER.finditer(body):
        if m.group(1) and m.group(1) not in names:
            names.append(m.group(1))
    return names


def load_defaults(apps, schema_editor):
    ZoneLevel = apps.get_model("zones", "ZoneLevel")
    ServiceKind = apps.get_model("zones", "ServiceKind")
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    created = {}
    for row in data["levels"]:
        row = dict(row)
        row.pop("lift_to")
        level, _ = ZoneLevel.objects.get_or_create(code=row.pop("code"), defaults=row)
        created[level.code] = level
    for row in data["levels"]:
        level = created[row["code"]]
        if row["lift_to"] and level.lift_to_id is None:
            level.lift_to = created[row["lift_to"]]
            level.save(update_fields=["lift_to"])
    for row in data["service_kinds"]:
        row = dict(row)
        ServiceKind.objects.get_or_create(code=row.pop("code"), defaults=row)
    for row in data["templates"]:
        fields = dict(row)
        code, language = fields.pop("code"), fields.pop("language")
        fields["placeholders"] = _placeholders(fields["body"])
        MessageTemplate.objects.get_or_create(code=code, language=language, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("zones", "0001_zones_levels_teams_requests"),
        ("notify", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
