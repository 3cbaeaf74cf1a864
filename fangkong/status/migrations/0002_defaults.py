"""Load the shipped status defaults (fixtures/defaults.json): levels, reason kinds,
rules for COVID-19, measles and the disease-independent facts, manual-change
bases, the policy row, and the status message templates (notify).

Only what is missing is created: an authority's edits are never touched.
"""

import datetime as dt
import json
import re
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


def _placeholders(body):
    names = []
    for m in PLACEHOLDER.finditer(body):
        if m.group(1) and m.group(1) not in names:
            names.append(m.group(1))
    return names


def load_defaults(apps, schema_editor):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    Level = apps.get_model("status", "StatusLevel")
    Kind = apps.get_model("status", "ReasonKind")
    Rule = apps.get_model("status", "StatusRule")
    Basis = apps.get_model("status", "ManualBasis")
    Policy = apps.get_model("status", "StatusPolicy")
    Disease = apps.get_model("investigation", "Disease")
    Template = apps.get_model("notify", "MessageTemplate")
    for row in data["levels"]:
        row = dict(row)
        Level.objects.get_or_create(code=row.pop("code"), defaults=row)
    for row in data["kinds"]:
        row = dict(row)
        Kind.objects.get_or_create(code=row.pop("code"), defaults=row)
    diseases = {d.code: d for d in Disease.objects.all()}
    for row in data["rules"]:
        row = dict(row)
        code = row.pop("disease")
        disease = diseases.get(code) if code else None
        if code and disease is None:
            continue
        row["effective_from"] = dt.date.fromisoformat(row["effective_from"])
        Rule.objects.get_or_create(
            kind=row.pop("kind"),
            disease_id=disease.pk if disease else None,
            version=row.pop("version"),
            defaults=row,
        )
    known = {f.name for f in Basis._meta.get_fields()}
    for row in data["bases"]:
        # Fields added to the fixture by later migrations (0004) are theirs to load.
        row = {k: v for k, v in row.items() if k in known}
        Basis.objects.get_or_create(code=row.pop("code"), defaults=row)
    if not Policy.objects.exists():
        Policy.objects.create(pk=1)
    for row in data["templates"]:
        row = dict(row)
        row["placeholders"] = _placeholders(row["body"])
        Template.objects.get_or_create(
            code=row.pop("code"), language=row.pop("language"), defaults=row
        )


class Migration(migrations.Migration):
    dependencies = [
        ("status", "0001_initial"),
        ("investigation", "0003_default_diseases"),
        ("notify", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
