"""A status rule keeps its disease's id as a plain column, not a foreign key into
investigation's table (issue 17: no key reaches into another app's tables).

The column ``disease_id`` and its index stay as they are, with every stored value:
the key's constraint is dropped (AlterField with ``db_constraint=False``), then the
model's state swaps the relation for an integer field of the same column and index,
and the unique (kind, disease, version) constraint names that field."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("investigation", "0001_initial"),
        ("status", "0005_policy_device_check_rate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statusrule",
            name="disease",
            field=models.ForeignKey(
                blank=True,
                null=True,
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="investigation.disease",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="statusrule", name="status_rule_version_unique"
                ),
                migrations.RemoveField(model_name="statusrule", name="disease"),
                migrations.AddField(
                    model_name="statusrule",
                    name="disease_id",
                    field=models.IntegerField(
                        blank=True, db_index=True, null=True, verbose_name="disease"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="statusrule",
                    constraint=models.UniqueConstraint(
                        fields=("kind", "disease_id", "version"),
                        name="status_rule_version_unique",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
