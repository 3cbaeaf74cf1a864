"""The HTTP gateway adapter against a stub gateway on 127.0.0.1 (nothing leaves the machine)."""

import base64
import datetime as dt
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings

from fangkong.notify.backends import HttpGatewayBackend, PermanentError, Sms, TransientError
from fangkong.notify.models import Message
from fangkong.notify.services import notify_person
from fangkong.notify.tests.helpers import resident, run_due_tasks

SMS = Sms(to="+8613900001234", body='【防控】请于明天8点核酸检测 "A"', reference="ref-1")


class StubGateway:
    """Answers with the queued (status, body) pairs in turn, then 200; records requests."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                stub.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length).decode(),
                    }
                )
                status, body = (
                    stub.answers.pop(0)
                    if stub.answers
                    else (200, {"data": {"msgid": f"gw-{len(stub.requests)}"}})
                )
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StubGateway":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with StubGateway() as stub:
        yield stub


def backend_for(stub: StubGateway, **options) -> HttpGatewayBackend:
    return HttpGatewayBackend(
        url=stub.url,
        username="fangkong",
        password="s3cret",
        timeout=5,
        response_id_field="data.msgid",
        **options,
    )


def test_it_posts_the_filled_request_template_and_returns_the_provider_id(gateway):
    provider_id = backend_for(gateway).send(SMS)
    assert provider_id == "gw-1"
    request = gateway.requests[0]
    assert request["path"] == "/sms/send"
    assert json.loads(request["body"]) == {
        "to": "+8613900001234",
        "text": SMS.body,
        "reference": "ref-1",
    }
    expected = "Basic " + base64.b64encode(b"fangkong:s3cret").decode()
    assert request["headers"]["Authorization"] == expected


def test_it_fills_a_custom_form_encoded_template(gateway):
    backend = backend_for(
        gateway,
        encoding="form",
        request_template={"mobile": "{phone}", "content": "{text}", "sid": "{message_id}", "x": 1},
    )
    backend.send(SMS)
    form = urllib.parse.parse_qs(gateway.requests[0]["body"])
    assert form == {
        "mobile": ["+8613900001234"],
        "content": [SMS.body],
        "sid": ["ref-1"],
        "x": ["1"],
    }


def test_without_an_id_in_the_answer_our_reference_is_used(gateway):
    gateway.answers.append((202, {"accepted": True}))
    assert backend_for(gateway).send(SMS) == "ref-1"


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_and_throttling_are_transient(gateway, status):
    gateway.answers.append((status, {"error": "busy"}))
    with pytest.raises(TransientError, match=str(status)):
        backend_for(gateway).send(SMS)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent(gateway, status):
    gateway.answers.append((status, {"error": "bad number"}))
    with pytest.raises(PermanentError, match=str(status)):
        backend_for(gateway).send(SMS)


def test_an_unreachable_gateway_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        with pytest.raises(TransientError):
            HttpGatewayBackend(url=f"http://127.0.0.1:{port}/", timeout=2).send(SMS)


def test_a_missing_url_is_a_permanent_misconfiguration():
    with pytest.raises(PermanentError):
        HttpGatewayBackend(url="").send(SMS)


NOTICE: dict[str, Any] = {
    "purpose": "registry",
    "template_code": "registry_notice",
    "context": {"text": "x"},
}


@pytest.mark.django_db
def test_the_worker_retries_a_5xx_and_then_records_the_provider_id(
    gateway, city, xiaodian_officer, time_machine, django_capture_on_commit_callbacks
):
    gateway.answers.append((503, {"error": "maintenance"}))
    config = {"url": gateway.url, "response_id_field": "data.msgid", "timeout": 5}
    with override_settings(
        FANGKONG_SMS_BACKEND="fangkong.notify.backends.HttpGatewayBackend",
        FANGKONG_SMS_GATEWAY=config,
        FANGKONG_SMS_RETRY_BASE_SECONDS=30,
    ):
        person = resident(city.xd_building)
        with django_capture_on_commit_callbacks(execute=True):
            message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
        message.refresh_from_db()
        assert message.status == Message.Status.QUEUED and "503" in message.error
        time_machine.shift(dt.timedelta(seconds=30))
        run_due_tasks()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.provider_message_id == "gw-2" and message.attempts == 2
    assert len(gateway.requests) == 2


@pytest.mark.django_db
def test_the_worker_fails_a_4xx_without_retrying(
    gateway, city, xiaodian_officer, django_capture_on_commit_callbacks
):
    gateway.answers.append((400, {"error": "invalid template"}))
    with override_settings(
        FANGKONG_SMS_BACKEND="fangkong.notify.backends.HttpGatewayBackend",
        FANGKONG_SMS_GATEWAY={"url": gateway.url, "timeout": 5},
    ):
        person = resident(city.xd_building)
        with django_capture_on_commit_callbacks(execute=True):
            message = notify_person(actor=xiaodian_officer, person_id=person.pk, **NOTICE)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert "400" in message.error and "invalid template" in message.error
    assert len(gateway.requests) == 1
