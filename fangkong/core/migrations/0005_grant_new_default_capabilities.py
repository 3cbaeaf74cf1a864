"""Give existing default roles the capabilities the shipped fixture grants them.

0002 only creates missing roles; capabilities added to ``roles.json`` since then
(investigation, check-ins, notifications) are added here to roles with the same
code. Nothing is removed, so an authority's own additions stay.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "roles.json"


def grant(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for row in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = row["fields"]
        role = Role.objects.filter(code=fields["code"]).first()
        if role is None:
            continue
        missing = [c for c in fields["capabilities"] if c not in role.capabilities]
        if missing:
            role.capabilities = [*role.capabilities, *missing]
            role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_person_line_list_document")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
