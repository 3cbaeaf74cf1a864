"""The self-scan check-in answered in front of Django (``investigation.wsgi``): the
same answer and the same row as Django's, everything else handed over unchanged."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from fangkong.conftest import make_person
from fangkong.core import signing
from fangkong.core.crypto import decrypt
from fangkong.core.services import api_token_create
from fangkong.core.tests.wsgi_support import SECURITY_HEADERS, Recorder, wsgi_call
from fangkong.investigation.models import CheckIn
from fangkong.investigation.services.venues import venue_code_issue, venue_code_revoke
from fangkong.investigation.tests.checkins_support import make_venue
from fangkong.investigation.wsgi import CHECKIN_PATH, CheckinFastPath

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue(city: Any) -> Any:
    return make_venue(city.xd_building)


@pytest.fixture
def issued(venue: Any, commander: Any) -> Any:
    return venue_code_issue(actor=commander, venue_id=venue.pk)


@pytest.fixture
def app() -> Recorder:
    return Recorder()


def post(app: Any, body: dict[str, Any] | bytes, **extra: str) -> tuple[int, dict[str, str], Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return wsgi_call(app, "POST", CHECKIN_PATH, body=raw, **extra)


def test_self_scan_is_answered_without_django_and_alike(city: Any, issued: Any, app: Recorder):
    person = make_person(city.xd_building)
    body = {"venue_token": issued[1], "person_token": signing.person_token(person.pk)}
    status, headers, fast = post(CheckinFastPath(app), body, HTTP_ACCEPT_LANGUAGE="en")
    assert (status, app.calls) == (201, 0)
    row = CheckIn.objects.get()
    assert (row.person_id, row.venue_id, row.source) == (person.pk, issued[0].venue_id, "scan")
    assert fast["visits"] == [{"id": row.pk, "extended": False}]
    # The same scan again through Django: the same visit, extended, the same answer shape.
    d_status, d_headers, slow = post(app, body, HTTP_ACCEPT_LANGUAGE="en")
    assert (d_status, app.calls) == (201, 1)
    assert slow["visits"] == [{"id": row.pk, "extended": True}]
    assert set(slow) == set(fast)
    assert (slow["venue_id"], slow["venue_name"]) == (fast["venue_id"], fast["venue_name"])
    assert dt.datetime.fromisoformat(fast["time"].replace("Z", "+00:00"))
    for name in SECURITY_HEADERS:
        assert headers.get(name) == d_headers.get(name), name
    assert CheckIn.objects.count() == 1  # one visit within ten minutes


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"venue_token": "v.1.xx.yy"}, "venue_token"),
        ({"person_token": "p.1.forged.sig"}, "person_token"),
        ({"person_token": ""}, "person_token"),
    ],
)
def test_refusals_are_djangos_and_write_nothing(
    city: Any, issued: Any, app: Recorder, bad: dict[str, str], field: str
) -> None:
    person = make_person(city.xd_building)
    body = {"venue_token": issued[1], "person_token": signing.person_token(person.pk), **bad}
    status, _h, answer = post(CheckinFastPath(app), body, HTTP_ACCEPT_LANGUAGE="en")
    assert status == 400 and field in answer["error"]["fields"]
    assert app.calls == 1
    assert not CheckIn.objects.exists()


def test_a_revoked_code_is_refused_by_django(city: Any, issued: Any, commander: Any, app: Any):
    venue_code_revoke(actor=commander, code_id=issued[0].pk, reason="stolen")
    person = make_person(city.xd_building)
    body = {"venue_token": issued[1], "person_token": signing.person_token(person.pk)}
    status, _h, answer = post(CheckinFastPath(app), body, HTTP_ACCEPT_LANGUAGE="en")
    assert status == 400 and "revoked" in answer["error"]["fields"]["venue_token"]
    assert not CheckIn.objects.exists()


def test_other_scans_go_to_django_with_their_body(
    city: Any, issued: Any, grid_worker: Any, app: Recorder
) -> None:
    person = make_person(city.xd_building)
    fast = CheckinFastPath(app)
    # A scan with a time (a queued scan sent late): Django parses and checks the time.
    late = {
        "venue_token": issued[1],
        "person_token": signing.person_token(person.pk),
        "time": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat(),
    }
    status, _h, answer = post(fast, late, HTTP_ACCEPT_LANGUAGE="en")
    assert (status, app.calls) == (400, 1) and "time" in answer["error"]["fields"]
    # A staff-assisted scan with an API token.
    _t, secret = api_token_create(actor=grid_worker, name="door")
    assisted = {
        "venue_token": issued[1],
        "doc_type": "prc_id",
        "doc_number": decrypt(person.doc_number_encrypted),
    }
    status, _h, answer = post(fast, assisted, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert (status, app.calls) == (201, 2)
    assert CheckIn.objects.get().source == "staff"
    # Not JSON at all.
    status, _h, _a = post(fast, b"venue_token=x")
    assert status == 400 and app.calls == 3


def test_the_project_application_has_both_fast_paths(city: Any, issued: Any) -> None:
    from fangkong.core.fastpaths import wrap

    app = Recorder()
    person = make_person(city.xd_building)
    body = {"venue_token": issued[1], "person_token": signing.person_token(person.pk)}
    status, _h, _a = post(wrap(app), body)
    assert (status, app.calls) == (201, 0)
