"""The English "zone declared" SMS names the level and its rules in English
({level_en}, {rules_en}). Only the shipped text is replaced: an authority's edited
template is left as it is."""

from django.db import migrations

OLD = (
    "[Fangkong] Dear {person_name}, {zone} is now a {level}. {rules} For medical care, "
    "medicines and other door-step services use the portal or call your community."
)
NEW = (
    "[Fangkong] Dear {person_name}, {zone} is now a {level_en}. {rules_en} For medical "
    "care, medicines and other door-step services use the portal or call your community."
)


def forwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    for tpl in MessageTemplate.objects.filter(code="zone_declared", language="en", body=OLD):
        tpl.body = NEW
        tpl.description = "Zone declared: {zone} name, {level_en} level, {rules_en} rules"
        tpl.placeholders = ["person_name", "zone", "level_en", "rules_en"]
        tpl.version += 1
        tpl.save(update_fields=["body", "description", "placeholders", "version"])


def backwards(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    for tpl in MessageTemplate.objects.filter(code="zone_declared", language="en", body=NEW):
        tpl.body = OLD
        tpl.description = "Zone declared: {zone} name, {level} level, {rules} rules"
        tpl.placeholders = ["person_name", "zone", "level", "rules"]
        tpl.save(update_fields=["body", "description", "placeholders"])


class Migration(migrations.Migration):
    dependencies = [("zones", "0002_default_levels_and_services")]

    operations = [migrations.RunPython(forwards, backwards)]
