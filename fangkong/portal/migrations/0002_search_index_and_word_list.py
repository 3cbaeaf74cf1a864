from pathlib import Path

from django.db import migrations

WORDS = Path(__file__).resolve().parent.parent / "fixtures" / "sensitive_words.txt"


def load_defaults(apps=None, schema_editor=None):
    """Seed the sensitive-word list (idempotent; also called after test flushes)."""
    if apps is None:
        from fangkong.portal.models import SensitiveWord
    else:
        SensitiveWord = apps.get_model("portal", "SensitiveWord")
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            SensitiveWord.objects.get_or_create(word=word)


def create_index(apps, schema_editor):
    from fangkong.portal.search import create_index

    create_index(schema_editor)


def drop_index(apps, schema_editor):
    from fangkong.portal.search import drop_index

    drop_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
    ]
