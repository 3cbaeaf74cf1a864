"""The sampler's scan answered in front of Django (``screening.wsgi``): the same
answer and rows as the API, the same token rules, every refusal Django's."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from fangkong.conftest import make_staff
from fangkong.core.fastpaths import token_principal
from fangkong.core.models import ApiToken
from fangkong.core.services import api_token_create
from fangkong.core.signing import person_token
from fangkong.core.tests.wsgi_support import SECURITY_HEADERS, Recorder, wsgi_call
from fangkong.screening.models import TubeMember
from fangkong.screening.services import sampling
from fangkong.screening.tests.kit import build, people
from fangkong.screening.wsgi import SCAN_PATH, ScanFastPath


@pytest.fixture
def kit(city: Any) -> Any:
    kit = build(city)
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="A1", site_id=kit.site.pk)
    return kit


@pytest.fixture
def app() -> Recorder:
    return Recorder()


def scan(app: Any, secret: str, body: dict[str, Any], **extra: str) -> tuple[int, Any, Any]:
    return wsgi_call(
        app,
        "POST",
        SCAN_PATH,
        body=json.dumps(body).encode(),
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


def test_scans_are_answered_without_django_and_alike(kit: Any, app: Recorder) -> None:
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    a, b = people(kit.city, 2)
    fast = ScanFastPath(app)
    status, headers, out = scan(fast, secret, {"barcode": "A1", "person_token": person_token(a.pk)})
    assert (status, app.calls) == (200, 0)
    assert out == {
        "tube": "A1",
        "person_id": a.pk,
        "person_name": a.name,
        "added": True,
        "member_count": 1,
        "capacity": kit.round.pooling_ratio,
        "warning": "",
    }
    d_status, d_headers, d_out = scan(
        app, secret, {"barcode": "A1", "person_token": person_token(b.pk)}
    )
    assert (d_status, d_out["member_count"], set(d_out)) == (200, 2, set(out))
    for name in SECURITY_HEADERS:
        assert headers.get(name) == d_headers.get(name), name
    assert TubeMember.objects.filter(tube__barcode="A1").count() == 2
    assert ApiToken.objects.get().last_used_at is not None


def test_refusals_are_djangos_and_write_nothing(kit: Any, app: Recorder) -> None:
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    (a,) = people(kit.city, 1)
    fast = ScanFastPath(app)
    assert scan(fast, secret, {"barcode": "A1", "person_token": person_token(a.pk)})[0] == 200
    status, _h, out = scan(fast, secret, {"barcode": "A1", "person_token": person_token(a.pk)})
    assert status == 409 and out["error"]["code"] == "person_twice"
    status, _h, out = scan(fast, secret, {"barcode": "NOPE", "person_token": person_token(a.pk)})
    assert status == 404 and "barcode" in out["error"]["fields"]
    status, _h, out = scan(fast, secret, {"barcode": "A1", "person_token": "garbage"})
    assert status == 400 and "person_token" in out["error"]["fields"]
    assert app.calls == 3
    assert TubeMember.objects.count() == 1


def test_token_rules_are_the_apis(kit: Any, app: Recorder) -> None:
    (a,) = people(kit.city, 1)
    body = {"barcode": "A1", "person_token": person_token(a.pk)}
    fast = ScanFastPath(app)
    refused = scan(app, "fk_not-a-token", body)[0]  # Django's answer to a bad token
    assert refused in (401, 403)
    app.calls = 0
    assert scan(fast, "fk_not-a-token", body)[0] == refused
    row, secret = api_token_create(actor=kit.sampler, name="lost phone")
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    assert token_principal(secret) is None
    assert scan(fast, secret, body)[0] == refused
    row, secret = api_token_create(actor=kit.sampler, name="old")
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert token_principal(secret) is None and scan(fast, secret, body)[0] == refused
    _row, secret = api_token_create(actor=kit.sampler, name="lane 2")
    kit.sampler.is_active = False
    kit.sampler.save(update_fields=["is_active"])
    assert token_principal(secret) is None and scan(fast, secret, body)[0] == refused
    assert app.calls == 4
    assert not TubeMember.objects.exists()


def test_capability_and_area_are_checked(kit: Any, app: Recorder) -> None:
    (a,) = people(kit.city, 1)
    body = {"barcode": "A1", "person_token": person_token(a.pk)}
    fast = ScanFastPath(app)
    _t, lab_secret = api_token_create(actor=kit.labtech, name="lab")  # no screening.sample
    assert scan(fast, lab_secret, body)[0] == 403
    other = make_staff("yz_sampler", kit.city.yingze, "sampler")
    _t, other_secret = api_token_create(actor=other, name="yz")
    assert scan(fast, other_secret, body)[0] == 404  # a tube of another district
    principal = token_principal(other_secret)
    assert principal is not None and principal.pk == other.pk
    assert not TubeMember.objects.exists()


def test_other_requests_go_to_django(kit: Any, app: Recorder) -> None:
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    (a,) = people(kit.city, 1)
    fast = ScanFastPath(app)
    later = {"barcode": "A1", "person_token": person_token(a.pk), "scanned_at": None}
    assert scan(fast, secret, later)[0] == 200
    assert app.calls == 1
    # No token at all: Django's 401.
    status, _h, _o = wsgi_call(
        fast, "POST", SCAN_PATH, body=json.dumps({"barcode": "A1", "person_token": "x"}).encode()
    )
    assert status in (401, 403) and app.calls == 2


def test_the_callers_request_id_is_kept(kit: Any, app: Recorder) -> None:
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    (a,) = people(kit.city, 1)
    body = {"barcode": "A1", "person_token": person_token(a.pk)}
    status, headers, _out = scan(ScanFastPath(app), secret, body, HTTP_X_REQUEST_ID="lane1-0001")
    assert (status, app.calls, headers["X-Request-ID"]) == (200, 0, "lane1-0001")


def test_a_devices_scan_is_one_statement_on_postgresql(kit: Any, app: Recorder) -> None:
    """The token, the rules and the write in one round trip; the token's use noted
    in it at most once a minute."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement scan is PostgreSQL's")
    row, secret = api_token_create(actor=kit.sampler, name="lane 1")
    a, b = people(kit.city, 2)
    fast = ScanFastPath(app)
    with CaptureQueriesContext(connection) as queries:
        status, _h, out = scan(fast, secret, {"barcode": "A1", "person_token": person_token(a.pk)})
    assert (status, out["member_count"], app.calls, len(queries)) == (200, 1, 0, 1)
    row.refresh_from_db()
    first_use = row.last_used_at
    assert first_use is not None
    assert scan(fast, secret, {"barcode": "A1", "person_token": person_token(b.pk)})[0] == 200
    row.refresh_from_db()
    assert row.last_used_at == first_use
    link = TubeMember.objects.get(person=b)
    assert link.sampled_by_id == kit.sampler.pk and link.person_scope_path == b.scope_path


@pytest.mark.django_db(transaction=True)
def test_a_scan_still_goes_in_when_its_prepared_statement_was_dropped(
    transactional_db: Any,
) -> None:
    """A pooler's DISCARD ALL drops the connection's prepared statements: the next
    scan prepares its statement again."""
    from django.db import connection

    from fangkong.conftest import city_build

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    kit = build(city_build())
    sampling.tube_open(actor=kit.sampler, round_id=kit.round.pk, barcode="A1", site_id=kit.site.pk)
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    a, b = people(kit.city, 2)
    app = Recorder()
    fast = ScanFastPath(app)
    assert scan(fast, secret, {"barcode": "A1", "person_token": person_token(a.pk)})[0] == 200
    with connection.cursor() as cur:
        cur.execute("DEALLOCATE ALL")
    status, _h, out = scan(fast, secret, {"barcode": "A1", "person_token": person_token(b.pk)})
    assert (status, out["member_count"], app.calls) == (200, 2, 0)


def test_behind_a_transaction_pooler_the_scan_is_sent_unprepared(
    kit: Any, app: Recorder, settings: Any
) -> None:
    """With FANGKONG_DB_PREPARE off, nothing is prepared on the connection (a pooler
    in transaction mode could run EXECUTE on another one): the same answer and row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def prepared_here() -> set[str]:
        with connection.cursor() as cur:
            cur.execute("SELECT name FROM pg_prepared_statements")
            return {name for (name,) in cur.fetchall()}

    before = prepared_here()
    settings.FANGKONG_DB_PREPARE = False
    _t, secret = api_token_create(actor=kit.sampler, name="lane 1")
    (a,) = people(kit.city, 1)
    with CaptureQueriesContext(connection) as queries:
        status, _h, out = scan(
            ScanFastPath(app), secret, {"barcode": "A1", "person_token": person_token(a.pk)}
        )
    assert (status, out["member_count"], app.calls) == (200, 1, 0)
    sent = [q["sql"] for q in queries.captured_queries]
    assert len(sent) == 1 and not sent[0].lstrip().upper().startswith(("PREPARE", "EXECUTE"))
    assert prepared_here() == before
    assert TubeMember.objects.filter(person=a, tube__barcode="A1").exists()
