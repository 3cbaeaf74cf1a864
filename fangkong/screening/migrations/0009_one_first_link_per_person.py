from django.db import migrations, models


def flag_later_first_links(apps, schema_editor):
    """Links made before the constraint by scans that raced (two first links of one
    person in one round): the earliest stays the first, the others become repeats.
    Nothing is deleted."""
    TubeMember = apps.get_model("screening", "TubeMember")
    dupes = (
        TubeMember.objects.filter(repeat=False)
        .values("round_id", "person_id")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .order_by()
    )
    for key in dupes.iterator():
        links = TubeMember.objects.filter(
            round_id=key["round_id"], person_id=key["person_id"], repeat=False
        ).order_by("sampled_at", "id")
        later = list(links.values_list("id", flat=True)[1:])
        TubeMember.objects.filter(id__in=later).update(repeat=True)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0008_barcode_indexes_without_pattern_copies"),
    ]

    operations = [
        migrations.RunPython(flag_later_first_links, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="tubemember",
            constraint=models.UniqueConstraint(
                condition=models.Q(("repeat", False)),
                fields=("round", "person"),
                name="screening_member_first",
            ),
        ),
    ]
