"""The people of a tree range counted from a path-only index (PostgreSQL).

``core_person_scope_path`` is (scope_path, id): every entry unique, about 100 bytes
a person. A path-only B-tree is deduplicated by PostgreSQL (one key per building,
then its rows): 35 MB instead of 500 MB for 5,000,000 people, so counting one
community's people reads ~50 pages instead of ~640 (measured: 182 -> 26 ms cold,
bench/bench_screening.py). SQLite keeps no such thing (its indexes hold the rowid
anyway: the same size as the existing one), so the index is PostgreSQL's only.
"""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS core_person_scope_count ON core_person (scope_path)"
DROP = "DROP INDEX IF EXISTS core_person_scope_count"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0007_person_merged_scope_index")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
