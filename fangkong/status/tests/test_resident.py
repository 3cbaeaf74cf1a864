"""Resident sign-in (document + SMS code, lock-out), my status page, appeals."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from fangkong.conftest import client_for, make_person
from fangkong.core.crypto import decrypt
from fangkong.notify.models import Message
from fangkong.status.models import Appeal, StatusPolicy
from fangkong.status.services import reasons_grant
from fangkong.status.services.appeals import appeal_decide


@pytest.fixture
def resident(city: Any) -> Any:
    return make_person(city.xd_building, name="李四", phone="13912345678")


def doc_of(person: Any) -> str:
    return decrypt(person.doc_number_encrypted)


def last_code(person: Any) -> str:
    body = Message.objects.filter(person=person, purpose="one_time_code").latest("pk").body
    found = re.search(r"\d{6}", body)
    assert found
    return found.group(0)


def send(c: Client, doc: str) -> Any:
    return c.post(
        "/status/me/login/", {"step": "send", "doc_number": doc}, HTTP_ACCEPT_LANGUAGE="en"
    )


def verify(c: Client, doc: str, code: str, next_url: str = "") -> Any:
    return c.post(
        "/status/me/login/",
        {"step": "verify", "doc_number": doc, "code": code, "next": next_url},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in(resident: Any) -> Client:
    c = Client()
    send(c, doc_of(resident))
    r = verify(c, doc_of(resident), last_code(resident))
    assert r.status_code == 302
    return c


def test_me_requires_sign_in_with_next(resident: Any) -> None:
    r = Client().get("/status/me/")
    assert r.status_code == 302
    assert r["Location"].startswith("/status/me/login/?next=")


def test_sign_in_and_see_reasons_in_plain_language(resident: Any) -> None:
    reasons_grant(
        kind="sealed_zone", person_ids=[resident.pk], source_type="zones.zone", source_id=1
    )
    c = signed_in(resident)
    page = c.get("/status/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Red" in page
    assert "Your home is in a sealed zone" in page
    assert "Medical emergencies must be admitted" in page
    assert "<svg" in page
    zh = c.get("/status/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "红码" in zh and "封控区" in zh


def test_unknown_document_gets_the_same_answer_and_no_sms(city: Any) -> None:
    r = send(Client(), "110101199001011234")
    assert r.status_code == 200
    assert "If this document is registered" in r.content.decode()
    assert not Message.objects.filter(purpose="one_time_code").exists()


def test_lockout_after_too_many_wrong_codes(resident: Any) -> None:
    StatusPolicy.objects.update(otp_max_attempts=3)
    from fangkong.status import rules

    rules.clear_cache()
    c = Client()
    send(c, doc_of(resident))
    good = last_code(resident)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(2):
        assert verify(c, doc_of(resident), wrong).status_code == 422
    r = verify(c, doc_of(resident), wrong)
    assert "Too many wrong codes" in r.content.decode() or "Locked" in r.content.decode()
    # Locked: even the right code, even a new one, is refused for a while.
    assert verify(c, doc_of(resident), good).status_code == 422
    assert "Locked" in send(c, doc_of(resident)).content.decode()
    assert c.get("/status/me/").status_code == 302


def test_appeal_for_someone_elses_document_is_refused(city: Any, resident: Any) -> None:
    other = make_person(city.xd_building, name="赵六", phone="13700000000")
    c = signed_in(resident)
    r = c.post(
        "/status/me/appeal/",
        {"doc_number": doc_of(other), "text": "This red code is not mine at all."},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 422
    assert "not your document" in r.content.decode()
    assert not Appeal.objects.exists()


def test_appeal_decision_goes_back_by_sms(
    resident: Any, xiaodian_officer: Any, yingze_officer: Any
) -> None:
    reasons_grant(
        kind="sealed_zone", person_ids=[resident.pk], source_type="zones.zone", source_id=1
    )
    c = signed_in(resident)
    r = c.post(
        "/status/me/appeal/",
        {"doc_number": doc_of(resident), "text": "I moved out of that building last year."},
    )
    assert r.status_code == 302
    appeal = Appeal.objects.get(person=resident)
    assert appeal.level_at_appeal == "red"
    queue = client_for(xiaodian_officer).get("/status/appeals/").content.decode()
    assert "I moved out" in queue
    assert "I moved out" not in client_for(yingze_officer).get("/status/appeals/").content.decode()
    from fangkong.core.errors import NotFound

    with pytest.raises(NotFound):
        appeal_decide(actor=yingze_officer, appeal_id=appeal.pk, state="upheld", text="ok")
    appeal_decide(
        actor=xiaodian_officer, appeal_id=appeal.pk, state="upheld", text="Address corrected."
    )
    sms = Message.objects.filter(person=resident, purpose="status_appeal").get()
    assert "Address corrected." in sms.body


def test_overdue_appeals_show_on_the_overview(resident: Any, xiaodian_officer: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    Appeal.objects.create(
        person=resident,
        scope_path=resident.scope_path,
        text="Please check my status again",
        due_at=timezone.now() - dt.timedelta(hours=1),
    )
    page = client_for(xiaodian_officer).get("/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Overdue appeals" in page


def test_too_many_codes_for_one_document_are_refused(resident: Any) -> None:
    c = Client()
    for _ in range(5):
        assert send(c, doc_of(resident)).status_code == 200
    r = send(c, doc_of(resident))
    assert r.status_code == 422
    assert "Too many codes" in r.content.decode()
    assert Message.objects.filter(person=resident, purpose="one_time_code").count() == 5


def test_the_limits_treat_registered_and_unknown_documents_alike(resident: Any) -> None:
    # Whether a document is registered must not show, not even through the
    # "too many codes" or "too many wrong codes" answers.
    StatusPolicy.objects.update(otp_max_attempts=3)
    from fangkong.status import rules

    rules.clear_cache()
    unknown = "110101199001011234"

    def answers(doc: str) -> list[tuple[int, bool]]:
        c = Client()
        out = []
        for _ in range(6):
            r = send(c, doc)
            out.append((r.status_code, "Too many codes" in r.content.decode()))
        wrong = "999999"
        if doc != unknown and last_code(resident) == wrong:
            wrong = "888888"
        for _ in range(3):
            r = verify(c, doc, wrong)
            text = r.content.decode()
            out.append((r.status_code, "Too many wrong codes" in text or "Locked" in text))
        return out

    registered = answers(doc_of(resident))
    assert registered == answers(unknown)
    assert registered[5] == (422, True)  # the sixth code request is refused
    assert registered[-1] == (422, True)  # the third wrong code locks


def _statements(queries: list[dict[str, str]]) -> list[str]:
    """The statements run, without their values (numbers, quoted strings, NULL)."""
    out = []
    for q in queries:
        sql = re.sub(r"'[^']*'", "?", q["sql"])
        sql = re.sub(r"\bNULL\b", "?", sql)
        out.append(re.sub(r"\b\d+(\.\d+)?\b", "?", sql))
    return out


def test_send_code_does_the_same_work_for_a_registered_and_an_unknown_document(
    resident: Any, monkeypatch: Any
) -> None:
    """Issue 22: the registered document took twice as long (the code, an update,
    the SMS in the request). Counted, not timed: the same statements and one queued
    delivery either way; the worker does the rest."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.status import resident as resident_module
    from fangkong.status.models import ResidentChallenge

    queued: list[int] = []
    monkeypatch.setattr(resident_module, "deliver_resident_code", queued.append)
    runs = {}
    for label, doc in (("registered", doc_of(resident)), ("unknown", "140105199001011234")):
        with CaptureQueriesContext(connection) as ctx:
            resident_module.resident_code_send(doc_number=doc)
        runs[label] = _statements(ctx.captured_queries)
    assert runs["registered"] == runs["unknown"] and len(runs["registered"]) == 4
    assert len(queued) == 2 and not Message.objects.exists()
    # The worker: a code for the registered document only, sent once however often it runs.
    known, unknown = queued
    assert resident_module.resident_code_deliver(challenge_id=unknown) is False
    assert resident_module.resident_code_deliver(challenge_id=known) is True
    assert resident_module.resident_code_deliver(challenge_id=known) is False
    assert Message.objects.filter(purpose="one_time_code").count() == 1
    assert ResidentChallenge.objects.get(pk=unknown).code_hash == ""
    c = Client()
    r = verify(c, doc_of(resident), last_code(resident))
    assert r.status_code == 302
