"""Schema-driven fuzz of every API operation as three roles: no answer is a 5xx,
every error is in the one JSON shape, no value reaches the database unchecked.

``make test`` sends a few requests per operation (``FANGKONG_FUZZ_EXAMPLES``,
default 2 valid and 2 invalid); ``make fuzz`` many more. The figures are printed
(``-s``) as: operations, requests, answers by class, 5xx.
"""

import pytest
from django.apps import apps
from django.test import Client

from fangkong.conftest import client_for, make_person
from fangkong.core.tests.fuzz import fuzz_api
from fangkong.screening.tests.kit import build

pytestmark = pytest.mark.django_db


def _known_ids() -> list[int]:
    """A few primary keys of every table that has rows (for path ids that exist)."""
    ids: set[int] = set()
    for model in apps.get_models():
        if model._meta.app_label in ("auth", "contenttypes", "sessions", "admin"):
            continue
        values = model._default_manager.values_list("pk", flat=True)[:3]
        ids.update(v for v in values if isinstance(v, int))
    return sorted(ids)


@pytest.mark.parametrize("role", ["anonymous", "city_commander", "district_officer"])
def test_no_operation_answers_a_server_error_or_an_error_outside_the_shape(
    role, city, commander, xiaodian_officer
):
    build(city)
    for i in range(3):
        make_person(city.xd_building, name=f"居民{i}", phone=f"1380013800{i}")
    if role == "anonymous":
        client = Client()
    else:
        client = client_for(commander if role == "city_commander" else xiaodian_officer)
    client.raise_request_exception = False
    report = fuzz_api(client, ids=_known_ids())
    print(f"\nAPI fuzz as {role}: {report.summary()}")
    assert report.operations > 100 and report.requests >= report.operations
    assert report.failures == [], "\n\n".join(str(f) for f in report.failures[:10])
    assert report.server_errors == 0
