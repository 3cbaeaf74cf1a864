"""Load the shipped default message templates (fixtures/templates.json).

Existing rows keep their edited text: defaults only fill in what is missing, so
an authority's changes survive upgrades. Later modules ship their templates the
same way, in their own data migrations.
"""

import json
import re
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "templates.json"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


def placeholders(body):
    names = []
    for m in PLACEHOLDER.finditer(body):
        if m.group(1) and m.group(1) not in names:
            names.append(m.group(1))
    return names


def load_defaults(apps, schema_editor):
    model = apps.get_model("notify", "MessageTemplate")
    for row in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = dict(row["fields"])
        code = fields.pop("code")
        language = fields.pop("language")
        fields["placeholders"] = placeholders(fields["body"])
        model.objects.get_or_create(code=code, language=language, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
