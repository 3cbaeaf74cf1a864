"""Four-ones team members' phone numbers are encrypted, found by keyed hash and
shown masked, as people's are (issue 22: they were stored and returned in clear).

Every stored number is kept: normalised to E.164 where it is a valid number, as
typed otherwise, then encrypted; the clear column goes.
"""

from django.db import migrations, models


def seal(apps, schema_editor):
    from fangkong.core.crypto import sealed_phone
    from fangkong.core.errors import ValidationFailed
    from fangkong.core.identity import normalise_phone

    TeamMember = apps.get_model("zones", "TeamMember")
    rows = list(TeamMember.objects.exclude(phone="").only("pk", "phone"))
    for row in rows:
        raw = row.phone.strip()
        try:
            number = normalise_phone(raw) or raw
        except ValidationFailed:
            number = raw  # not a number we recognise: kept as typed, encrypted all the same
        for field, value in sealed_phone(number).items():
            setattr(row, field, value)
    TeamMember.objects.bulk_update(
        rows, ["phone_encrypted", "phone_hash", "phone_masked"], batch_size=1000
    )


def unseal(apps, schema_editor):
    from fangkong.core.crypto import decrypt

    TeamMember = apps.get_model("zones", "TeamMember")
    rows = list(TeamMember.objects.exclude(phone_encrypted="").only("pk", "phone_encrypted"))
    for row in rows:
        row.phone = decrypt(row.phone_encrypted)[:32]
    TeamMember.objects.bulk_update(rows, ["phone"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("zones", "0003_english_zone_sms")]

    operations = [
        migrations.AddField(
            model_name="teammember",
            name="phone_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="teammember",
            name="phone_hash",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="teammember",
            name="phone_masked",
            field=models.CharField(
                blank=True, editable=False, max_length=32, verbose_name="phone"
            ),
        ),
        migrations.RunPython(seal, unseal),
        migrations.RemoveField(model_name="teammember", name="phone"),
    ]
