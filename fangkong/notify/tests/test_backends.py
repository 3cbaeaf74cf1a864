import io
import json

import pytest
from django.test import override_settings

from fangkong.notify.backends import (
    ConsoleBackend,
    FileBackend,
    LocmemBackend,
    Sms,
    get_backend,
)

SMS = Sms(to="+8613900001234", body="【防控】明天8点核酸检测。", reference="ref-9")


def test_the_backend_is_chosen_by_settings():
    assert isinstance(get_backend(), LocmemBackend)  # the test default
    with override_settings(FANGKONG_SMS_BACKEND="fangkong.notify.backends.ConsoleBackend"):
        assert isinstance(get_backend(), ConsoleBackend)


def test_the_locmem_backend_keeps_an_outbox(outbox):
    LocmemBackend().send(SMS)
    assert outbox == [SMS]


def test_the_file_backend_writes_one_json_line_per_message(tmp_path):
    with override_settings(FANGKONG_SMS_FILE_PATH=tmp_path / "sms"):
        first = FileBackend().send(SMS)
        FileBackend().send(SMS)
    files = list((tmp_path / "sms").glob("sms-*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    assert lines[0]["to"] == SMS.to and lines[0]["text"] == SMS.body
    assert lines[0]["reference"] == "ref-9" and lines[0]["provider_message_id"] == first


def test_the_console_backend_masks_the_phone_number():
    stream = io.StringIO()
    ConsoleBackend(stream=stream).send(SMS)
    out = stream.getvalue()
    assert SMS.body in out and "+86*******1234" in out
    assert "13900001234" not in out


@pytest.mark.parametrize("path", ["fangkong.notify.backends.Nope", "no.such.module.Backend"])
def test_an_unknown_backend_fails_loudly(path):
    with pytest.raises(ImportError):
        get_backend(path)
