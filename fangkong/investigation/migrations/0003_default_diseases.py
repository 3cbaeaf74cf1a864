"""Load the shipped diseases and their first rule versions (fixtures/diseases.json).

Only what is missing is created: an authority's own versions are never touched.
"""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "diseases.json"


def load(apps, schema_editor):
    Disease = apps.get_model("investigation", "Disease")
    DiseaseRules = apps.get_model("investigation", "DiseaseRules")
    for row in json.loads(FIXTURE.read_text(encoding="utf-8")):
        rules = row.pop("rules")
        disease, _ = Disease.objects.get_or_create(code=row.pop("code"), defaults=row)
        for version in rules:
            version = dict(version)
            version["effective_from"] = dt.date.fromisoformat(version["effective_from"])
            DiseaseRules.objects.get_or_create(
                disease=disease, version=version.pop("version"), defaults=version
            )


class Migration(migrations.Migration):
    dependencies = [("investigation", "0002_cases_checkins_contacts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
