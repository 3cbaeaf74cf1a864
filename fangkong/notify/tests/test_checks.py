from django.test import override_settings

from fangkong.notify.checks import sms_settings

GATEWAY = "fangkong.notify.backends.HttpGatewayBackend"


def _ids() -> list[str]:
    return [p.id for p in sms_settings()]


def test_the_default_settings_pass():
    assert _ids() == []


@override_settings(FANGKONG_SMS_BACKEND=GATEWAY, FANGKONG_SMS_GATEWAY={"url": ""})
def test_the_gateway_backend_needs_a_url_and_warns_without_a_callback_token():
    assert _ids() == ["notify.E003", "notify.W001"]


@override_settings(
    FANGKONG_SMS_BACKEND=GATEWAY,
    FANGKONG_SMS_GATEWAY={"url": "https://sms.example/send", "request_template": "[1]"},
    FANGKONG_SMS_CALLBACK_TOKEN="t",
)
def test_a_request_template_must_be_a_json_object():
    assert _ids() == ["notify.E004"]


@override_settings(FANGKONG_SMS_QUIET_HOURS="late-early")
def test_malformed_quiet_hours_are_reported():
    assert _ids() == ["notify.E002"]


@override_settings(FANGKONG_SMS_BACKEND="fangkong.notify.backends.Missing")
def test_an_unknown_backend_is_reported():
    assert _ids() == ["notify.E001"]
