"""The audit table refuses TRUNCATE too (PostgreSQL).

The row trigger of 0003 covers UPDATE and DELETE; TRUNCATE fires no row
trigger, so it emptied the table. A statement-level trigger refuses it with the
same message. SQLite has no TRUNCATE (a DELETE without WHERE meets 0003's
trigger). The test suite lifts it for its own flush (``fangkong/conftest.py``).
"""

from django.db import migrations

TRIGGER = "core_audit_no_truncate"
PG_UP = [
    f"""CREATE TRIGGER {TRIGGER} BEFORE TRUNCATE ON core_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION core_audit_append_only()""",
]
PG_DOWN = [f"DROP TRIGGER IF EXISTS {TRIGGER} ON core_auditentry"]
# For the test suite's flush between transactional tests (never in the application).
PG_LIFT = [f"ALTER TABLE core_auditentry DISABLE TRIGGER {TRIGGER}"]
PG_RESTORE = [f"ALTER TABLE core_auditentry ENABLE TRIGGER {TRIGGER}"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0009_separate_staff_management_from_approving")]

    operations = [migrations.RunPython(_run(PG_UP), _run(PG_DOWN))]
