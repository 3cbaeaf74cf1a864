"""Load the shipped screening rules (fixtures/defaults.json): pooling options,
standing schedules per key group, SLA rules and escalation steps.

Only what is missing is created: an authority's own edits are never touched.
"""

import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"


def load_defaults(apps, schema_editor):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    PoolingOption = apps.get_model("screening", "PoolingOption")
    Schedule = apps.get_model("screening", "Schedule")
    SlaRule = apps.get_model("screening", "SlaRule")
    EscalationStep = apps.get_model("screening", "EscalationStep")
    KeyGroup = apps.get_model("core", "KeyGroup")
    for ratio in data["pooling_options"]:
        PoolingOption.objects.get_or_create(ratio=ratio)
    for row in data["schedules"]:
        group = KeyGroup.objects.filter(code=row["key_group"]).first()
        if group is not None:
            Schedule.objects.get_or_create(
                key_group=group, defaults={"interval_days": row["interval_days"]}
            )
    for row in data["sla_rules"]:
        SlaRule.objects.get_or_create(
            from_stage=row["from_stage"],
            to_stage=row["to_stage"],
            defaults={"hours": Decimal(row["hours"])},
        )
    for row in data["escalation_steps"]:
        EscalationStep.objects.get_or_create(
            order=row["order"], defaults={"after_hours": row["after_hours"], "action": row["action"]}
        )


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_rounds_tubes_results")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
