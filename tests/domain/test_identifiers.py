from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.domain.errors import InvalidInput
from cti.domain.identifiers import (
    display_phone,
    format_nhs_number,
    is_valid_nhs_number,
    is_withheld_cli,
    nhs_check_digit,
    normalise_cli,
    normalise_phone,
    parse_nhs_number,
)

# --- NHS number --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["9434765919", "9990000018", "9990000026"])
def test_examples_from_the_domain_notes_are_valid(raw: str) -> None:
    assert is_valid_nhs_number(raw)
    assert parse_nhs_number(raw) == raw


def test_worked_example_check_digit() -> None:
    # 943476591 weighs 299; 299 % 11 = 2; 11 - 2 = 9.
    assert nhs_check_digit("943476591") == 9


@pytest.mark.parametrize("raw", ["9876544321", "987 654 4321", "9991234560"])
def test_common_example_numbers_fail_the_check(raw: str) -> None:
    assert not is_valid_nhs_number(raw)
    with pytest.raises(InvalidInput) as caught:
        parse_nhs_number(raw)
    assert caught.value.error_id == "invalid_nhs_number"
    assert caught.value.details == {"field": "nhs_number", "problem": "check_digit"}
    assert "check digit" in caught.value.message


@pytest.mark.parametrize("raw", ["943 476 5919", "943-476-5919", " 943 476-5919 ", "943\u00a0476\u00a05919"])
def test_spaces_and_dashes_are_accepted(raw: str) -> None:
    assert parse_nhs_number(raw) == "9434765919"


@pytest.mark.parametrize(
    ("raw", "problem", "words"),
    [
        ("", "empty", "empty"),
        ("   ", "empty", "empty"),
        ("943476591", "length", "10 digits (found 9)"),
        ("94347659190", "length", "10 digits (found 11)"),
        ("943.476.5919", "characters", "only digits, spaces and dashes"),
        ("943476591O", "characters", "'O'"),
        ("\u0669434765919", "characters", "only digits"),  # an Arabic-Indic nine is not a digit here
    ],
)
def test_bad_input_names_the_problem(raw: str, problem: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_nhs_number(raw, field="patient_nhs")
    error = caught.value
    assert error.error_id == "invalid_nhs_number"
    assert error.status == 422
    assert error.details == {"field": "patient_nhs", "problem": problem}
    assert words in error.message


def test_check_digit_of_ten_is_never_issued() -> None:
    # 000000006 weighs 6 * 2 = 12 -> 12 % 11 = 1 -> check 10.
    assert nhs_check_digit("000000006") is None
    assert not any(is_valid_nhs_number(f"000000006{d}") for d in range(10))


def test_check_digit_of_eleven_means_zero() -> None:
    assert nhs_check_digit("000000000") == 0
    assert is_valid_nhs_number("0000000000")


def test_error_messages_do_not_echo_the_number() -> None:
    for raw in ("9876544321", "98765443", "98765x4321"):
        with pytest.raises(InvalidInput) as caught:
            parse_nhs_number(raw)
        assert "98765" not in caught.value.message


def test_format_three_three_four() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("999-000-0018") == "999 000 0018"
    with pytest.raises(InvalidInput):
        format_nhs_number("9876544321")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_single_digit_change_is_caught(prefix: str) -> None:
    check = nhs_check_digit(prefix)
    if check is None:
        return
    number = prefix + str(check)
    assert is_valid_nhs_number(number)
    for position in range(10):
        for digit in "0123456789":
            if digit != number[position]:
                changed = number[:position] + digit + number[position + 1 :]
                assert not is_valid_nhs_number(changed)


# --- Phone numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "07700 900123",
        "07700900123",
        "+447700900123",
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "447700900123",
        "0044 7700 900123",
        "07700-900-123",
        " 07700 900123 ",
    ],
)
def test_mobile_forms_normalise_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+447700900123"


@pytest.mark.parametrize(
    ("raw", "e164", "shown"),
    [
        ("01632 960001", "+441632960001", "01632 960001"),
        ("(01632) 960 001", "+441632960001", "01632 960001"),
        ("0116 496 0123", "+441164960123", "0116 496 0123"),
        ("0115 496 0999", "+441154960999", "0115 496 0999"),
        ("020 7946 0000", "+442079460000", "020 7946 0000"),
    ],
)
def test_geographic_numbers(raw: str, e164: str, shown: str) -> None:
    assert normalise_phone(raw) == e164
    assert display_phone(e164) == shown


def test_display_national_for_uk_and_international_otherwise() -> None:
    assert display_phone("+447700900123") == "07700 900123"
    assert display_phone("+33123456789") == "+33 1 23 45 67 89"
    assert "+44 (0)" not in display_phone("+447700900123")


@pytest.mark.parametrize(
    ("raw", "kept"),
    [("111", "111"), ("999", "999"), ("112", "112"), ("116123", "116123"), ("116 117", "116117")],
)
def test_short_codes_are_never_rewritten(raw: str, kept: str) -> None:
    assert normalise_phone(raw) == kept
    assert normalise_cli(raw) == kept
    assert display_phone(kept) == kept


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("07700", "length"),
        ("077009001234567", "length"),
        ("0800 FLOWERS", "characters"),
        ("+44", "unreadable"),
        ("hello", "characters"),
    ],
)
def test_bad_phone_numbers_are_refused(raw: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw)
    assert caught.value.error_id == "invalid_phone_number"
    assert caught.value.details == {"field": "phone", "problem": problem}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        "anonymous",
        "Anonymous",
        "UNKNOWN",
        "private",
        "Restricted",
        "withheld",
        "unavailable",
        "sip:anonymous@anonymous.invalid",
        "+266696687",  # Twilio's ANONYMOUS
        "+7378742833",  # Twilio's RESTRICTED
    ],
)
def test_withheld_cli_is_its_own_case(raw: str | None) -> None:
    assert is_withheld_cli(raw)
    assert normalise_cli(raw) is None


@pytest.mark.parametrize(
    "raw", ["07700900123", "+447700900123", "tel:+447700900123", "sip:+447700900123@pbx.example;user=phone"]
)
def test_cli_forms(raw: str) -> None:
    assert normalise_cli(raw) == "+447700900123"


def test_unreadable_cli_is_an_error_not_withheld() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_cli("12")
    assert caught.value.details["field"] == "cli"
