"""Two indexes fewer on the audit table, written by every service's every write:

- ``actor_id`` alone: ``core_audit_actor`` (actor, time) leads with it;
- ``action``: its PostgreSQL ``varchar_pattern_ops`` copy (actions are looked up
  whole, never by prefix); a plain ``core_audit_action`` index stays.

The indexes are dropped by name as the database has them (no table rebuild on
SQLite: an audit table of millions of rows is not copied); the model state
follows with the fields' new options.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SINGLE = (["action"], ["actor_id"])


def _single_indexes(schema_editor, model):
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return [
        name
        for name, info in found.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] in SINGLE
        and name != "core_audit_action"
    ]


def drop(apps, schema_editor):
    model = apps.get_model("core", "AuditEntry")
    for name in _single_indexes(schema_editor, model):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def restore(apps, schema_editor):
    model = apps.get_model("core", "AuditEntry")
    for column in ("action", "actor"):
        field = model._meta.get_field(column)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
    like = getattr(schema_editor, "_create_like_index_sql", None)  # PostgreSQL's
    if like is not None:
        sql = like(model, model._meta.get_field("action"))
        if sql is not None:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0012_domain_fact_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="action",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action"], name="core_audit_action"),
        ),
    ]
