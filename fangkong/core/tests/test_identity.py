import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core.errors import ValidationFailed
from fangkong.core.identity import make_prc_id, normalise_document, normalise_phone

REGIONS = ["140105", "140106", "110105", "310115", "440305"]
births = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2024, 12, 31))


@given(st.sampled_from(REGIONS), births, st.integers(0, 999))
def test_every_well_formed_id_is_accepted_with_its_birth_date_and_sex(region, birth, seq):
    doc = normalise_document("prc_id", make_prc_id(region, birth, seq))
    assert doc.birth_date == birth
    assert doc.sex == ("M" if seq % 2 else "F")


@given(st.sampled_from(REGIONS), births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_typo_is_caught(region, birth, seq, pos, delta):
    good = make_prc_id(region, birth, seq)
    typo = good[:pos] + str((int(good[pos]) + delta) % 10) + good[pos + 1 :]
    with pytest.raises(ValidationFailed) as exc:
        normalise_document("prc_id", typo)
    assert "doc_number" in exc.value.fields


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("14010519900307123", "18 characters"),
        ("1401051990030712AX", "17 digits"),
        ("140105199002301238", None),  # 30 February, check digit fixed below
        ("990105199003071234", None),
    ],
)
def test_messages_say_what_is_wrong(number, fragment):
    if fragment is None:
        from stdnum.cn import ric

        number = number[:17] + ric.calc_check_digit(number[:17] + "0")
    with pytest.raises(ValidationFailed) as exc:
        normalise_document("prc_id", number)
    message = exc.value.fields["doc_number"]
    if fragment:
        assert fragment in message
    elif number.startswith("99"):
        assert "region" in message
    else:
        assert "birth date" in message


def test_lowercase_x_and_spaces_are_normalised():
    good = make_prc_id("140105", dt.date(1999, 9, 9), 7)
    if not good.endswith("X"):
        good = next(
            make_prc_id("140105", dt.date(1999, 9, 9), s)
            for s in range(1000)
            if make_prc_id("140105", dt.date(1999, 9, 9), s).endswith("X")
        )
    messy = " " + good[:6] + " " + good[6:-1] + good[-1].lower()
    assert normalise_document("prc_id", messy).number == good


def test_a_future_birth_date_is_refused():
    future = dt.date.today() + dt.timedelta(days=30)  # noqa: DTZ011
    with pytest.raises(ValidationFailed) as exc:
        normalise_document("prc_id", make_prc_id("140105", future, 1))
    assert "future" in exc.value.fields["doc_number"]


def test_passports_are_upper_cased_and_checked():
    assert normalise_document("passport", "e1234 5678").number == "E12345678"
    with pytest.raises(ValidationFailed):
        normalise_document("passport", "E12")


def test_phones_become_e164_and_nonsense_is_refused():
    assert normalise_phone("138-0013-8000") == "+8613800138000"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("") == ""
    for bad in ("12345", "call me", "+86 100"):
        with pytest.raises(ValidationFailed) as exc:
            normalise_phone(bad)
        assert "phone" in exc.value.fields
