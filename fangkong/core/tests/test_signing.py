import pytest
import time_machine

from fangkong.core.signing import BadToken, person_id_from_token, person_token, sign, verify


def test_a_personal_token_round_trips():
    assert person_id_from_token(person_token(42)) == 42


def test_tampered_tokens_are_refused():
    token = person_token(42)
    kind, version, payload, sig = token.split(".")
    forged_payload = sign("p", {"p": 43}).split(".")[2]
    for bad in (
        f"{kind}.{version}.{forged_payload}.{sig}",
        token[:-2] + "AA",
        "p.1.x",
        "",
        "v.1.abc.def",
        token.replace("p.", "v.", 1),
    ):
        with pytest.raises(BadToken):
            person_id_from_token(bad)


def test_expired_tokens_are_refused():
    with time_machine.travel("2026-01-01T00:00:00Z"):
        token = person_token(7, ttl_seconds=60)
    with time_machine.travel("2026-01-01T00:02:00Z"), pytest.raises(BadToken) as exc:
        person_id_from_token(token)
    assert "expired" in str(exc.value.fields)


def test_key_rotation_keeps_old_tokens_until_their_key_is_dropped(settings):
    settings.FANGKONG_SIGNING_KEYS = {1: "old"}
    token = sign("v", {"v": 5})
    settings.FANGKONG_SIGNING_KEYS = {1: "old", 2: "new"}
    assert verify("v", token)[1] == 1
    assert sign("v", {"v": 5}).split(".")[1] == "2"
    settings.FANGKONG_SIGNING_KEYS = {2: "new"}
    with pytest.raises(BadToken) as exc:
        verify("v", token)
    assert "retired" in str(exc.value.fields)


@pytest.mark.parametrize("version", ["01", "+1", " 1", "1 ", "\u0661", "\uff11", "1_0", "-1", ""])
def test_only_the_canonical_version_is_accepted(settings, version):
    settings.FANGKONG_SIGNING_KEYS = {1: "k"}
    token = sign("p", {"p": 42})
    kind, current, payload, sig = token.split(".")
    assert current == "1" and person_id_from_token(token) == 42
    with pytest.raises(BadToken):
        person_id_from_token(f"{kind}.{version}.{payload}.{sig}")


def test_a_signature_spelled_differently_is_refused():
    token = person_token(42)
    kind, version, payload, sig = token.split(".")
    for other in (sig + "=", sig + "==", sig.replace("-", "+").replace("_", "/")):
        if other == sig:
            continue
        with pytest.raises(BadToken):
            person_id_from_token(f"{kind}.{version}.{payload}.{other}")
    # The last character carries unused bits: another letter that decodes to the
    # same 16 bytes is another spelling of the same signature.
    import base64

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    same = [
        c
        for c in alphabet
        if c != sig[-1]
        and base64.urlsafe_b64decode(sig[:-1] + c + "==") == base64.urlsafe_b64decode(sig + "==")
    ]
    assert same
    with pytest.raises(BadToken):
        person_id_from_token(f"{kind}.{version}.{payload}.{sig[:-1]}{same[0]}")
