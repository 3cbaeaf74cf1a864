"""Residents' arrival reports now belong to entry control: entry's migration
0002 copied every stored report into ``entry.Arrival`` first (and copies them
back when reversed), so this drop loses nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_tags_in_first_use_order"),
        ("entry", "0002_defaults_roles_and_portal_reports"),
    ]

    operations = [
        migrations.DeleteModel(
            name="ArrivalReport",
        ),
    ]
