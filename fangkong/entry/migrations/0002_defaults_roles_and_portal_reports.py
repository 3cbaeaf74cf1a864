"""Entry's shipped defaults, its capabilities for the default roles, and the
residents' arrival reports moved from the portal.

- The classification rules (fixtures/defaults.json) and the SMS template of the
  measures: only what is missing is created, an authority's edited rows stay.
- The default roles get the entry capabilities of ``core/fixtures/roles.json``
  (nothing removed: an authority's own grants stay).
- Every report stored by the portal (``portal.ArrivalReport``) becomes an arrival
  reported before travelling, with its person, origin, date, transport,
  destination and time; the portal's table is dropped after this (portal 0004).
  Reversed, the reports go back to the portal's table.
"""

import datetime as dt
import importlib
import json
import re
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defaults.json"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
_grant = importlib.import_module("fangkong.core.migrations.0005_grant_new_default_capabilities")


def _placeholders(body):
    names = []
    for m in PLACEHOLDER.finditer(body):
        if m.group(1) and m.group(1) not in names:
            names.append(m.group(1))
    return names


def load_defaults(apps, schema_editor):
    RuleSet = apps.get_model("entry", "RuleSet")
    Rule = apps.get_model("entry", "Rule")
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for row in data["rule_sets"]:
        row = dict(row)
        rules = row.pop("rules")
        row["effective_from"] = dt.date.fromisoformat(row["effective_from"])
        rule_set, created = RuleSet.objects.get_or_create(
            disease_code=row.pop("disease_code"), version=row.pop("version"), defaults=row
        )
        if created:
            Rule.objects.bulk_create([Rule(rule_set=rule_set, **r) for r in rules])
    for row in data["templates"]:
        fields = dict(row)
        code, language = fields.pop("code"), fields.pop("language")
        fields["placeholders"] = _placeholders(fields["body"])
        MessageTemplate.objects.get_or_create(code=code, language=language, defaults=fields)


def grant_roles(apps, schema_editor):
    _grant.grant(apps, schema_editor)


def move_reports(apps, schema_editor):
    ArrivalReport = apps.get_model("portal", "ArrivalReport")
    Arrival = apps.get_model("entry", "Arrival")
    Person = apps.get_model("core", "Person")
    reports = list(ArrivalReport.objects.order_by("id"))
    ids = {r.person_id for r in reports if r.person_id is not None}
    scopes = dict(Person.objects.filter(pk__in=ids).values_list("pk", "scope_path"))
    Arrival.objects.bulk_create(
        [
            Arrival(
                person_id=r.person_id if r.person_id in scopes else None,
                scope_path=scopes.get(r.person_id, ""),
                source="self_report",
                state="reported",
                expected_on=r.arrival_date,
                origin=r.from_place,
                transport_text=r.transport,
                destination=r.destination,
                itinerary=[],
                created_at=r.created_at,
            )
            for r in reports
        ],
        batch_size=1000,
    )


def move_reports_back(apps, schema_editor):
    ArrivalReport = apps.get_model("portal", "ArrivalReport")
    Arrival = apps.get_model("entry", "Arrival")
    ArrivalReport.objects.bulk_create(
        [
            ArrivalReport(
                person_id=a.person_id,
                from_place=a.origin[:100],
                arrival_date=a.expected_on,
                transport=a.transport_text[:60],
                destination=a.destination[:200],
                created_at=a.created_at,
            )
            for a in Arrival.objects.filter(source="self_report").order_by("id")
        ],
        batch_size=1000,
    )
    Arrival.objects.filter(source="self_report", checkpoint__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("entry", "0001_checkpoints_lists_rules_arrivals_transfers"),
        ("notify", "0002_default_templates"),
        ("core", "0010_audit_refuses_truncate"),
        ("portal", "0003_tags_in_first_use_order"),
    ]

    operations = [
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
        migrations.RunPython(move_reports, move_reports_back),
    ]
