"""Load the shipped default roles and key groups (fixtures/*.json).

Existing rows keep their edited names and capabilities: defaults only fill in
what is missing, so an authority's changes survive upgrades.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load_defaults(apps, schema_editor):
    for filename, model_name in (("roles.json", "Role"), ("key_groups.json", "KeyGroup")):
        model = apps.get_model("core", model_name)
        for row in json.loads((FIXTURES / filename).read_text(encoding="utf-8")):
            fields = dict(row["fields"])
            code = fields.pop("code")
            model.objects.get_or_create(code=code, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
