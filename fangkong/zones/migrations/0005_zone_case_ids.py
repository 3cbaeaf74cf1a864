"""A zone keeps the ids of the cases it was declared for as a list, not a
many-to-many table of keys into investigation's cases (issue 17: no key reaches
into another app's tables). Every link is copied before the table goes; going
back copies them into the table again."""

from django.db import migrations, models


def links_to_ids(apps, schema_editor):
    Zone = apps.get_model("zones", "Zone")
    Link = Zone.cases.through
    ids: dict[int, list[int]] = {}
    for zone_id, case_id in Link.objects.values_list("zone_id", "case_id").order_by("case_id"):
        ids.setdefault(zone_id, []).append(case_id)
    for zone_id, case_ids in ids.items():
        Zone.objects.filter(pk=zone_id).update(case_ids=case_ids)


def ids_to_links(apps, schema_editor):
    Zone = apps.get_model("zones", "Zone")
    Case = apps.get_model("investigation", "Case")
    Link = Zone.cases.through
    known = set(Case.objects.values_list("pk", flat=True))
    Link.objects.bulk_create(
        [
            Link(zone_id=zone_id, case_id=case_id)
            for zone_id, case_ids in Zone.objects.values_list("pk", "case_ids")
            for case_id in case_ids or []
            if case_id in known
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("investigation", "0001_initial"),
        ("zones", "0004_team_member_phone_encrypted"),
    ]

    operations = [
        migrations.AddField(
            model_name="zone",
            name="case_ids",
            field=models.JSONField(blank=True, default=list, verbose_name="linked cases"),
        ),
        migrations.RunPython(links_to_ids, ids_to_links),
        migrations.RemoveField(model_name="zone", name="cases"),
    ]
