"""What callers key in and say: validating collected digits, and matching speech to choices.

Messages never echo what was entered: IVR input may hold an NHS number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cti.domain.errors import InvalidInput
from cti.domain.identifiers import normalise_phone, parse_nhs_number
from cti.records.service_requests import canonical_reference

DIGITS = re.compile(r"[0-9]+")
WORD = re.compile(r"\w+")
# Spoken digits, so "nine nine nine" works where speech is on.
_SPOKEN = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
ADVISER_WORDS = ("adviser", "advisor", "agent", "operator", "person", "someone", "human", "cynghorydd")
REPEAT_WORDS = ("repeat", "again", "eto")


@dataclass(frozen=True, slots=True)
class Collected:
    value: str  # what is stored (canonical form)
    spoken: str  # how it is read back to the caller


def _spaced(digits: str) -> str:
    return " ".join(digits)


def validate(kind: str, raw: str, today: date) -> Collected:
    """Check digits collected for ``kind``; raise ``InvalidInput`` with a ``problem`` the flow can say."""
    text = raw.strip()
    if not DIGITS.fullmatch(text):
        raise InvalidInput("only digits can be keyed", error_id="invalid_ivr_input", problem="characters")
    if kind == "nhs_number":
        value = parse_nhs_number(text, field="nhs_number")
        return Collected(value, f"{_spaced(value[:3])}, {_spaced(value[3:6])}, {_spaced(value[6:])}")
    if kind == "reference":
        if len(text) > 9:
            raise InvalidInput(
                "a reference has up to 9 digits", error_id="invalid_ivr_input", problem="length"
            )
        value = canonical_reference(text)
        return Collected(value, _spaced(value.removeprefix("SR-").lstrip("0") or "0"))
    if kind == "date_of_birth":
        return _date_of_birth(text, today)
    if kind == "phone":
        value = normalise_phone(text, field="phone")
        return Collected(value, _spaced(text))
    return Collected(text, _spaced(text))


def _date_of_birth(text: str, today: date) -> Collected:
    if len(text) != 8:
        raise InvalidInput(
            "a date of birth is 8 digits, DDMMYYYY", error_id="invalid_ivr_input", problem="length"
        )
    try:
        born = date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise InvalidInput("not a date", error_id="invalid_ivr_input", problem="date") from None
    if born > today or born.year < today.year - 120:
        raise InvalidInput("not a possible date of birth", error_id="invalid_ivr_input", problem="range")
    return Collected(born.isoformat(), born.strftime("%-d %B %Y"))


def spoken_digits(text: str) -> str:
    """The digits in an utterance: "nine nine nine, 0 1 8" -> "999018"."""
    out = []
    for word in re.findall(r"[a-z]+|[0-9]", text.lower()):
        if word.isdigit():
            out.append(word)
        elif word in _SPOKEN:
            out.append(_SPOKEN[word])
    return "".join(out)


def says_any(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of ``words`` (whole words or phrases) occurs in ``text``, ignoring case."""
    said = _padded(text)
    return any(_padded(word) in said for word in words if word.strip())


def _padded(text: str) -> str:
    return " " + " ".join(WORD.findall(text.lower())) + " "
