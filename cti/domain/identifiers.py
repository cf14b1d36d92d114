"""NHS numbers and phone numbers: parse strictly, store one canonical form, show a friendly one.

NHS number: 10 digits, Modulus 11 check digit, shown 3-3-4. Phone numbers: E.164 (``+44...``),
parsed with ``phonenumbers`` in region GB; short codes are kept as they are, and a withheld CLI is
its own case (``normalise_cli`` returns ``None``) so the screen-pop asks instead of guessing.

Error messages name the problem but never echo the number: they may end up in logs.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from cti.domain.errors import InvalidInput

# --- NHS number --------------------------------------------------------------------------------

NHS_NUMBER_LENGTH = 10
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# Separators people type or paste (a non-breaking space and an en dash come from documents).
_NHS_SEPARATORS = frozenset(" \u00a0-\u2013")
_DIGITS = frozenset("0123456789")


def _nhs_error(message: str, field: str, problem: str) -> InvalidInput:
    return InvalidInput(message, error_id="invalid_nhs_number", field=field, problem=problem)


def nhs_check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or ``None`` when no valid number can end them."""
    total = sum(int(d) * w for d, w in zip(first_nine, _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def parse_nhs_number(raw: str, *, field: str = "nhs_number") -> str:
    """Return the 10 digits of a valid NHS number or raise ``InvalidInput`` naming the problem."""
    text = raw.strip()
    if not text:
        raise _nhs_error("NHS number is empty", field, "empty")
    bad = sorted({ch for ch in text if ch not in _DIGITS and ch not in _NHS_SEPARATORS})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:3])
        raise _nhs_error(
            f"NHS number may contain only digits, spaces and dashes (found {shown})", field, "characters"
        )
    digits = "".join(ch for ch in text if ch in _DIGITS)
    if len(digits) != NHS_NUMBER_LENGTH:
        raise _nhs_error(
            f"NHS number must have {NHS_NUMBER_LENGTH} digits (found {len(digits)})", field, "length"
        )
    check = nhs_check_digit(digits[:9])
    if check is None:
        # A check digit of 10 means the first nine digits can never form a number.
        raise _nhs_error("NHS number is not valid: it fails the check digit test", field, "check_digit")
    if check != int(digits[9]):
        raise _nhs_error("NHS number is not valid: the check digit does not match", field, "check_digit")
    return digits


def is_valid_nhs_number(raw: str) -> bool:
    try:
        parse_nhs_number(raw)
    except InvalidInput:
        return False
    return True


def format_nhs_number(digits: str) -> str:
    """Show an NHS number 3-3-4 (``943 476 5919``); the input is validated first."""
    valid = parse_nhs_number(digits)
    return f"{valid[:3]} {valid[3:6]} {valid[6:]}"


# --- Phone numbers -----------------------------------------------------------------------------

REGION = "GB"
_UK_COUNTRY_CODE = 44
# Not subscriber numbers: never rewritten into E.164 (a "+44111" would be wrong and unroutable).
_SHORT_CODE = re.compile(r"(?:111|999|112|116\d{3})")
# What people and PBXs put around the digits; letters are refused (phonenumbers would map vanity
# letters to digits, which is never what a caller-id or a typed number means here).
_PHONE_ALLOWED = frozenset("0123456789+-(). /\u00a0")
_WITHHELD_WORDS = frozenset(
    {"", "anonymous", "unknown", "private", "restricted", "withheld", "unavailable", "blocked", "none"}
)
# Twilio presents a hidden caller id as these numbers (the words spelt on a keypad).
_TWILIO_WITHHELD = frozenset({"+266696687", "+7378742833", "+8656696", "+2562533", "+86282452253"})
_URI_SCHEMES = ("tel:", "sip:", "sips:")

_REASONS = {
    ValidationResult.TOO_SHORT: "is too short",
    ValidationResult.TOO_LONG: "is too long",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
    ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "has no area code",
}


def _phone_error(message: str, field: str, problem: str) -> InvalidInput:
    return InvalidInput(message, error_id="invalid_phone_number", field=field, problem=problem)


def _short_code(text: str) -> str | None:
    compact = "".join(ch for ch in text if ch not in " -\u00a0")
    return compact if _SHORT_CODE.fullmatch(compact) else None


class _PhoneProblem(Exception):
    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.message, self.problem = message, problem


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """Return the E.164 form (``+447700900123``), or a short code as its digits (``111``).

    Accepts national (``07700 900123``), international (``+44 (0)7700 900123``, ``0044...``) and
    bare country-code (``447700900123``) forms. Raises ``InvalidInput`` otherwise.
    """
    try:
        return _canonical_phone(raw.strip())
    except _PhoneProblem as exc:
        raise _phone_error(exc.message, field, exc.problem) from None


# Parsing with phonenumbers costs about 100 us; every call's caller number is parsed several times
# on its way to the screen-pop, so the answers are kept (a bounded cache; errors are not kept).
@functools.lru_cache(maxsize=8192)
def _canonical_phone(text: str) -> str:
    if not text:
        raise _PhoneProblem("phone number is empty", "empty")
    short = _short_code(text)
    if short is not None:
        return short
    bad = sorted({ch for ch in text if ch not in _PHONE_ALLOWED})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:3])
        raise _PhoneProblem(f"phone number contains characters that are not allowed ({shown})", "characters")
    try:
        number = phonenumbers.parse(text, REGION)
    except NumberParseException:
        raise _PhoneProblem("phone number could not be read", "unreadable") from None
    verdict = phonenumbers.is_possible_number_with_reason(number)
    if verdict != ValidationResult.IS_POSSIBLE:
        reason = _REASONS.get(verdict, "is not a possible number")
        raise _PhoneProblem(f"phone number {reason}", "length")
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _uri_user(raw: str) -> str:
    """``sip:+447700900123@pbx;user=phone`` -> ``+447700900123``; other text is returned as is."""
    text = raw.strip()
    lowered = text.lower()
    for scheme in _URI_SCHEMES:
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.split("@", 1)[0].split(";", 1)[0].strip()


def is_withheld_cli(raw: str | None) -> bool:
    if raw is None:
        return True
    user = _uri_user(raw)
    return user.lower() in _WITHHELD_WORDS or user in _TWILIO_WITHHELD


def normalise_cli(raw: str | None) -> str | None:
    """The caller's number from the network: E.164 or a short code, or ``None`` when withheld.

    Raises ``InvalidInput`` (``invalid_phone_number``) for anything else that cannot be read.
    """
    if is_withheld_cli(raw):
        return None
    assert raw is not None  # is_withheld_cli(None) is True
    return normalise_phone(_uri_user(raw), field="cli")


@functools.lru_cache(maxsize=8192)
def display_phone(e164: str) -> str:
    """How an agent sees a stored number: national format for UK numbers (``07700 900123``),
    international for others (``+33 1 23 45 67 89``), short codes as they are."""
    canonical = normalise_phone(e164)
    if not canonical.startswith("+"):
        return canonical
    number = phonenumbers.parse(canonical, REGION)
    if number.country_code == _UK_COUNTRY_CODE:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
