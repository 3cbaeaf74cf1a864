"""Classifying arrivals: one at registration, all recent ones after a new list.

The decision (category, measures, the rule version and list versions used, the
findings that explain it) is stored on the arrival. For an arrival that has
arrived its consequences follow: the test series, places to review, the
hand-off to the home community, the ``arrival.classified`` fact (status grants
or ends the ``arrival_risk`` reason) and an SMS with the measures.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from fangkong.core import events
from fangkong.core.types import Actor
from fangkong.entry import engine
from fangkong.entry.models import (
    Arrival,
    ArrivalTest,
    Category,
    HomeHandoff,
    PlaceReview,
    RiskArea,
    RiskList,
    RuleSet,
)
from fangkong.entry.places import normalise_code, squash

HANDOFF_CATEGORIES = (Category.HOME, Category.MONITORING)


def rules_in_force(day: dt.date, disease_code: str = "covid19") -> engine.RuleTable:
    rule_set = (
        RuleSet.objects.filter(disease_code=disease_code, effective_from__lte=day)
        .order_by("-effective_from", "-version")
        .prefetch_related("rules")
        .first()
    )
    if rule_set is None:
        raise RuntimeError("no classification rules in force: load entry's defaults")
    rows = {
        r.condition: engine.RuleRow(
            condition=r.condition,
            category=r.category,
            quarantine_days=r.quarantine_days,
            tests=r.tests,
            test_days=r.test_days,
            single_tube=r.single_tube,
            pool_size=r.pool_size,
            transfer=r.transfer,
            status_reason=r.status_reason,
        )
        for r in rule_set.rules.all()
    }
    return engine.RuleTable(
        id=rule_set.pk, version=rule_set.version, lookback_days=rule_set.lookback_days, rows=rows
    )


def lists_in_force(day: dt.date) -> engine.ListsInForce:
    """Every area of the lists published and in force on ``day`` (one query)."""
    snapshot = engine.ListsInForce()
    rows = (
        RiskArea.objects.filter(
            risk_list__state=RiskList.State.PUBLISHED, risk_list__effective_from__lte=day
        )
        .exclude(risk_list__effective_to__lt=day)
        .values_list(
            "risk_list_id",
            "risk_list__region_code",
            "risk_list__region_name",
            "risk_list__version",
            "admin_code",
            "name_key",
            "province",
            "city",
            "district",
            "street",
            "place",
            "level",
        )
    )
    for row in rows.iterator():
        lid, rcode, rname, version, code, key, province, city, district, street, place, level = row
        specific = squash(place or street or district)
        names: list[str] = []
        for part in (province, city, district, street, place):
            if part and (not names or names[-1] != part):
                names.append(part)  # 上海市上海市 is said once
        snapshot.add(
            engine.Area(
                list_id=lid,
                region_code=rcode,
                region_name=rname,
                version=version,
                code=normalise_code(code) if code else "",
                name_key=key,
                specific=specific,
                level=level,
                label="".join(names) or key,
            )
        )
    return snapshot


def stops_of(arrival: Arrival) -> list[engine.Stop]:
    return [
        engine.Stop(
            place=s.get("place", ""),
            code=s.get("code", ""),
            start=dt.date.fromisoformat(s["from"]),
            end=dt.date.fromisoformat(s["to"]),
        )
        for s in arrival.itinerary
    ]


def decide(
    arrival: Arrival, *, lists: engine.ListsInForce, rules: engine.RuleTable
) -> engine.Decision:
    return engine.classify(
        stops=stops_of(arrival),
        arrival_on=arrival.expected_on,
        lists=lists,
        rules=rules,
        transit_only=arrival.traveller_class == Arrival.TravellerClass.TRANSIT,
    )


def apply(arrival: Arrival, decision: engine.Decision, rules: engine.RuleTable) -> bool:
    """Store the decision on the arrival (unsaved); True when it changed."""
    before = (arrival.category, arrival.rule_set_id, arrival.list_versions, arrival.findings)
    arrival.condition = decision.condition
    arrival.category = decision.category
    arrival.rule_set_id = rules.id
    arrival.list_versions = decision.list_versions
    arrival.findings = decision.findings
    arrival.measures = decision.measures
    arrival.measures_end = decision.measures_end
    arrival.classified_at = timezone.now()
    return before != (
        arrival.category,
        arrival.rule_set_id,
        arrival.list_versions,
        arrival.findings,
    )


CLASSIFIED_FIELDS = [
    "condition",
    "category",
    "rule_set",
    "list_versions",
    "findings",
    "measures",
    "measures_end",
    "classified_at",
    "updated_at",
]


def classify_one(arrival: Arrival, *, actor: Actor) -> engine.Decision:
    """Classify and save one arrival; its consequences when it has arrived."""
    rules = rules_in_force(arrival.expected_on)
    decision = decide(arrival, lists=lists_in_force(arrival.expected_on), rules=rules)
    changed = apply(arrival, decision, rules)
    arrival.save(update_fields=CLASSIFIED_FIELDS)
    if arrival.state != Arrival.State.REPORTED:
        consequences(arrival, decision, actor=actor, changed=changed)
    return decision


def consequences(
    arrival: Arrival, decision: engine.Decision, *, actor: Actor, changed: bool = True
) -> None:
    """What follows a decision for an arrived person (each step idempotent)."""
    _tests(arrival, decision)
    _reviews(arrival, decision)
    _handoff(arrival)
    if arrival.person_id is None:
        return
    events.publish(
        "arrival.classified",
        arrival_id=arrival.pk,
        person_id=arrival.person_id,
        category=arrival.category,
        status_reason=decision.rule.status_reason,
        measures_end=arrival.measures_end.isoformat() if arrival.measures_end else None,
        rule_version=arrival.rule_set_id,
        list_versions=arrival.list_versions,
        actor=actor,
    )
    if changed:
        _sms(arrival, arrival.person_id)


def _tests(arrival: Arrival, decision: engine.Decision) -> None:
    """The test series: due tests follow the decision, sampled ones stay."""
    _tests_many([(arrival, decision, False)])


def _reviews(arrival: Arrival, decision: engine.Decision) -> None:
    for stop, place in decision.unmatched:
        PlaceReview.objects.get_or_create(
            arrival=arrival,
            stop=stop,
            defaults={"place": place[:200], "scope_path": arrival.scope_path},
        )


def _handoff(arrival: Arrival) -> None:
    """Home quarantine and health monitoring go to the home community's list."""
    if arrival.category not in HANDOFF_CATEGORIES or arrival.person_id is None:
        HomeHandoff.objects.filter(arrival=arrival, state=HomeHandoff.State.OPEN).delete()
        return
    home_path = _home_path(arrival.home_id) if arrival.home_id else _person_path(arrival.person_id)
    HomeHandoff.objects.update_or_create(
        arrival=arrival,
        defaults={
            "person_id": arrival.person_id,
            "scope_path": home_path,
            "category": arrival.category,
            "until": arrival.measures_end,
        },
    )


def _home_path(home_id: int) -> str:
    from fangkong.core.models import Jurisdiction

    return str(Jurisdiction.objects.filter(pk=home_id).values_list("path", flat=True).get())


def _person_path(person_id: int) -> str:
    from fangkong.core.models import Person

    return str(Person.objects.filter(pk=person_id).values_list("scope_path", flat=True).get())


def measures_text(arrival: Arrival) -> tuple[str, str]:
    """The measures and what ends them, in the active language."""
    from fangkong.entry.explain import ends_text, measures_sentence

    return measures_sentence(arrival), ends_text(arrival)


def _sms(arrival: Arrival, person_id: int) -> None:
    from fangkong.core.models import Person
    from fangkong.notify.services import notify_system

    person = Person.objects.get(pk=person_id)
    lists = zlib.crc32(json.dumps(arrival.list_versions, sort_keys=True).encode())
    with translation.override(person.language):
        measures, ends = measures_text(arrival)
    notify_system(
        person=person,
        purpose="entry",
        template_code="entry_measures",
        context={"measures": measures, "ends": ends},
        legally_required=True,
        dedup_key=f"arrival:{arrival.pk}:{arrival.category}:{arrival.rule_set_id}:{lists:x}",
    )


CHUNK = 2000


def arrivals_reclassify(*, actor: Actor, day: dt.date | None = None) -> dict[str, int]:
    """Classify again every arrival of the rules' look-back days against the lists in force
    (after a list was published or withdrawn). One snapshot of the lists and the
    rules, decisions made in memory, changed rows written in bulk; the changed
    arrivals' consequences follow in bulk (``consequences_many``). Returns
    {"checked", "changed"}."""
    day = day or timezone.localdate()
    lists = lists_in_force(day)
    rules = rules_in_force(day)
    # The arrivals of the rules' look-back (data): an itinerary within it of anyone
    # arrived since can meet an area the new list names.
    since = day - dt.timedelta(days=rules.lookback_days)
    checked = changed = 0
    # (arrival, decision, notice): the arrived ones whose measures or rules changed
    # (a new list version alone changes their findings, not what they must do)
    changed_rows: list[tuple[Arrival, engine.Decision, bool]] = []
    qs = (
        Arrival.objects.filter(expected_on__gte=since, expected_on__lte=day)
        .exclude(state=Arrival.State.CLOSED)
        .only(
            "id",
            "person_id",
            "home_id",
            "scope_path",
            "state",
            "traveller_class",
            "expected_on",
            "itinerary",
            "category",
            "rule_set_id",
            "list_versions",
            "findings",
            "measures",
            "measures_end",
        )
        .order_by("id")
    )
    # Changed rows are written grouped by their new decision (arrivals from the
    # same places on the same day share it): one UPDATE per group.
    groups: dict[str, list[int]] = {}
    values: dict[str, dict[str, Any]] = {}
    with transaction.atomic():
        for arrival in qs.iterator(chunk_size=CHUNK):
            checked += 1
            said = (arrival.category, arrival.measures, arrival.measures_end)
            rules_before = arrival.rule_set_id
            decision = decide(arrival, lists=lists, rules=rules)
            if apply(arrival, decision, rules):
                changed += 1
                row = {
                    "condition": arrival.condition,
                    "category": arrival.category,
                    "rule_set_id": arrival.rule_set_id,
                    "list_versions": arrival.list_versions,
                    "findings": arrival.findings,
                    "measures": arrival.measures,
                    "measures_end": arrival.measures_end,
                }
                key = json.dumps(row, sort_keys=True, default=str)
                values.setdefault(key, row)
                groups.setdefault(key, []).append(arrival.pk)
                notice = said != (arrival.category, arrival.measures, arrival.measures_end)
                if arrival.state != Arrival.State.REPORTED and (
                    notice or rules_before != arrival.rule_set_id or decision.unmatched
                ):
                    changed_rows.append((arrival, decision, notice))
        now = timezone.now()
        for key, ids in groups.items():
            for i in range(0, len(ids), CHUNK):
                Arrival.objects.filter(pk__in=ids[i : i + CHUNK]).update(
                    **values[key], classified_at=now, updated_at=now
                )
        consequences_many(changed_rows, actor=actor, lists_key=_lists_key(lists.versions))
    return {"checked": checked, "changed": changed}


def _lists_key(versions: dict[str, int]) -> str:
    return f"{zlib.crc32(json.dumps(versions, sort_keys=True).encode()):x}"


def consequences_many(
    rows: list[tuple[Arrival, engine.Decision, bool]], *, actor: Actor, lists_key: str
) -> None:
    """``consequences`` for many arrived people at once (a re-classification):
    the same test series, reviews and hand-offs written with one query of each
    kind per chunk, one ``arrivals.classified`` fact per chunk, and the measures
    SMS (only to those whose measures changed: ``notice``) as one notify batch
    per wording. The caller leaves out arrivals whose new decision differs only
    in the list versions and findings: nothing they must do changed."""
    for i in range(0, len(rows), CHUNK):
        part = rows[i : i + CHUNK]
        _tests_many(part)
        _reviews_many(part)
        _handoffs_many([a for a, _d, _n in part])
        decisions = [
            [
                a.pk,
                a.person_id,
                a.category,
                d.rule.status_reason,
                a.measures_end.isoformat() if a.measures_end else None,
            ]
            for a, d, _n in part
            if a.person_id is not None
        ]
        if decisions:
            events.publish(
                "arrivals.classified",
                decisions=decisions,
                rule_version=part[0][0].rule_set_id,
                actor=actor,
            )
    _sms_many([a for a, _d, notice in rows if notice and a.person_id is not None], lists_key)


def _tests_many(part: list[tuple[Arrival, engine.Decision, bool]]) -> None:
    """The test series of each arrival: due tests follow its decision (the rule's
    days, single tube or pool size), sampled ones stay."""
    ids = [a.pk for a, _d, _n in part]
    sampled = set(
        ArrivalTest.objects.filter(arrival_id__in=ids, state=ArrivalTest.State.SAMPLED).values_list(
            "arrival_id", "number"
        )
    )
    ArrivalTest.objects.filter(arrival_id__in=ids, state=ArrivalTest.State.DUE).delete()
    ArrivalTest.objects.bulk_create(
        [
            ArrivalTest(
                arrival=a,
                number=n,
                due_on=day,
                single_tube=d.rule.single_tube,
                pool_size=d.rule.pool_size,
            )
            for a, d, _n in part
            for n, day in enumerate(
                (dt.date.fromisoformat(x) for x in d.measures.get("tests", [])), start=1
            )
            if (a.pk, n) not in sampled
        ],
        batch_size=CHUNK,
    )


def _reviews_many(part: list[tuple[Arrival, engine.Decision, bool]]) -> None:
    wanted = [(a, stop, place) for a, d, _n in part for stop, place in d.unmatched]
    if not wanted:
        return
    there = set(
        PlaceReview.objects.filter(arrival_id__in={a.pk for a, _s, _p in wanted}).values_list(
            "arrival_id", "stop"
        )
    )
    PlaceReview.objects.bulk_create(
        [
            PlaceReview(arrival=a, stop=stop, place=place[:200], scope_path=a.scope_path)
            for a, stop, place in wanted
            if (a.pk, stop) not in there
        ]
    )


def _handoffs_many(arrivals: list[Arrival]) -> None:
    from fangkong.core.models import Jurisdiction, Person

    keep = [a for a in arrivals if a.category in HANDOFF_CATEGORIES and a.person_id is not None]
    kept = {a.pk for a in keep}
    drop = [a.pk for a in arrivals if a.pk not in kept]
    if drop:
        HomeHandoff.objects.filter(arrival_id__in=drop, state=HomeHandoff.State.OPEN).delete()
    if not keep:
        return
    homes = dict(
        Jurisdiction.objects.filter(pk__in={a.home_id for a in keep if a.home_id}).values_list(
            "pk", "path"
        )
    )
    people = dict(
        Person.objects.filter(pk__in={a.person_id for a in keep if not a.home_id}).values_list(
            "pk", "scope_path"
        )
    )
    existing = {
        h.arrival_id: h for h in HomeHandoff.objects.filter(arrival_id__in=[a.pk for a in keep])
    }
    now = timezone.now()
    new: list[HomeHandoff] = []
    same_place: dict[tuple[str, dt.date | None], list[int]] = {}
    for a in keep:
        person_id = int(a.person_id or 0)
        path = homes[a.home_id] if a.home_id else people[person_id]
        handoff = existing.get(a.pk)
        if handoff is None:
            new.append(
                HomeHandoff(
                    arrival=a,
                    person_id=person_id,
                    scope_path=path,
                    category=a.category,
                    until=a.measures_end,
                )
            )
        elif (handoff.person_id, handoff.scope_path) == (person_id, path):
            same_place.setdefault((a.category, a.measures_end), []).append(handoff.pk)
        else:
            handoff.person_id, handoff.scope_path = person_id, path
            handoff.category, handoff.until = a.category, a.measures_end
            handoff.save(update_fields=["person", "scope_path", "category", "until", "updated_at"])
    for (category, until), ids in same_place.items():
        HomeHandoff.objects.filter(pk__in=ids).update(
            category=category, until=until, updated_at=now
        )
    HomeHandoff.objects.bulk_create(new)


def _sms_many(arrivals: list[Arrival], lists_key: str) -> None:
    """One notify batch per wording: the same measures and end in one language."""
    from fangkong.core.models import Person
    from fangkong.notify.services import batch_create_system

    if not arrivals:
        return
    languages: dict[int, str] = {}
    ids = sorted({a.person_id for a in arrivals if a.person_id is not None})
    for i in range(0, len(ids), CHUNK):
        languages.update(
            Person.objects.filter(pk__in=ids[i : i + CHUNK]).values_list("pk", "language")
        )
    groups: dict[tuple[str, str, str, str], tuple[Arrival, list[int]]] = {}
    for a in arrivals:
        assert a.person_id is not None
        key = (
            languages.get(a.person_id, "zh-hans"),
            a.category,
            json.dumps(a.measures, sort_keys=True),
            a.measures_end.isoformat() if a.measures_end else "",
        )
        groups.setdefault(key, (a, []))[1].append(a.person_id)
    for key, (example, person_ids) in groups.items():
        with translation.override(key[0]):
            measures, ends = measures_text(example)
        wording = zlib.crc32(json.dumps(key, sort_keys=True).encode())
        batch_create_system(
            purpose="entry",
            template_code="entry_measures",
            context={"measures": measures, "ends": ends},
            person_ids=person_ids,
            legally_required=True,
            dedup_key=f"entry-reclassified:{example.rule_set_id}:{lists_key}:{wording:x}",
        )


def summary(decision: engine.Decision) -> dict[str, Any]:
    return {"category": decision.category, "condition": decision.condition}
