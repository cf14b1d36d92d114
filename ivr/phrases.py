"""What the engine says by itself (retries, read-backs, queue announcements, progress of a request),
in each language it knows. Flows say everything else. The Welsh is illustrative and unchecked by a
translator, like all shipped content."""

from __future__ import annotations

from datetime import datetime

PHRASES: dict[str, dict[str, str]] = {
    "en-GB": {
        "invalid": "Sorry, that is not one of the choices.",
        "no_input": "Sorry, I did not hear a choice.",
        "low_confidence": "Sorry, I did not catch that.",
        "nhs_number.length": "That NHS number did not have ten digits.",
        "nhs_number.check_digit": "That NHS number is not valid. Please check it and try again.",
        "nhs_number.characters": "Please use only the number keys.",
        "reference.length": "That reference is too long.",
        "reference.not_found": "Sorry, I could not find that reference.",
        "date_of_birth.length": "Please enter the date of birth as eight digits: day, month and year.",
        "date_of_birth.date": "That is not a date. Please try again.",
        "date_of_birth.range": "That date of birth is not possible. Please try again.",
        "phone.length": "That phone number is not complete.",
        "invalid_digits": "Sorry, that was not right. Please try again.",
        "no_digits": "Sorry, I did not hear any digits.",
        "confirm": "Thank you. I have {value}.",
        "position": "You are number {position} in the queue.",
        "position_next": "You are next in the queue.",
        "wait": "The average wait at the moment is about {minutes} minutes.",
        "wait_short": "The average wait at the moment is less than a minute.",
        "hold": "Thank you for holding. An adviser will be with you as soon as possible.",
        "callback_no_number": "We cannot see your number, so please hold.",
        "status.heard": (
            "To hear this again, press 1. To speak to an adviser, press 0. "
            "Otherwise, thank you for calling. You can hang up now."
        ),
        "status.goodbye": "Thank you for calling. Goodbye.",
        "status.none_open": "There are no open requests for the number you are calling from.",
        "status.verify": (
            "To hear about this request, key in the date of birth of the person it is for, as eight "
            "digits, day, month and year, followed by the hash key."
        ),
        "status.not_verified": "Sorry, that does not match our records.",
        "sr.intro": "Your request, reference {reference},",
        "sr.received": "has been received and is waiting to be looked at by the team.",
        "sr.triaged": "has been assessed and is waiting for a worker to be allocated.",
        "sr.allocated": "has been allocated to a worker, who will contact you.",
        "sr.visit_booked": "has a visit booked.",
        "sr.in_progress": "is in progress.",
        "sr.completed": "has been completed.",
        "sr.closed": "has been closed.",
        "sr.cancelled": "has been cancelled.",
        "sr.due": "The next step is due by {when}.",
        "sr.overdue": "The next step was due by {when} and is late. We have noted your call.",
        "sr.more": "You have {count} more open requests. An adviser can tell you about them.",
    },
    "cy-GB": {
        "invalid": "Mae'n ddrwg gen i, nid yw hynny'n un o'r dewisiadau.",
        "no_input": "Mae'n ddrwg gen i, ni chlywais ddewis.",
        "low_confidence": "Mae'n ddrwg gen i, ni ddeallais hynny.",
        "nhs_number.length": "Nid oedd gan y rhif GIG hwnnw ddeg digid.",
        "nhs_number.check_digit": "Nid yw'r rhif GIG hwnnw'n ddilys. Gwiriwch ef a rhowch gynnig arall arni.",
        "nhs_number.characters": "Defnyddiwch y bysellau rhif yn unig.",
        "reference.length": "Mae'r cyfeirnod hwnnw'n rhy hir.",
        "reference.not_found": "Mae'n ddrwg gen i, ni allwn ddod o hyd i'r cyfeirnod hwnnw.",
        "date_of_birth.length": "Rhowch y dyddiad geni fel wyth digid: diwrnod, mis a blwyddyn.",
        "date_of_birth.date": "Nid yw hwnnw'n ddyddiad. Rhowch gynnig arall arni.",
        "date_of_birth.range": "Nid yw'r dyddiad geni hwnnw'n bosibl. Rhowch gynnig arall arni.",
        "phone.length": "Nid yw'r rhif ffôn hwnnw'n gyflawn.",
        "invalid_digits": "Mae'n ddrwg gen i, nid oedd hynny'n iawn. Rhowch gynnig arall arni.",
        "no_digits": "Mae'n ddrwg gen i, ni chlywais unrhyw ddigidau.",
        "confirm": "Diolch. Mae gen i {value}.",
        "position": "Rydych yn rhif {position} yn y ciw.",
        "position_next": "Chi sydd nesaf yn y ciw.",
        "wait": "Mae'r amser aros cyfartalog ar hyn o bryd tua {minutes} munud.",
        "wait_short": "Mae'r amser aros cyfartalog ar hyn o bryd yn llai na munud.",
        "hold": "Diolch am aros. Bydd cynghorydd gyda chi cyn gynted â phosibl.",
        "callback_no_number": "Ni allwn weld eich rhif, felly arhoswch os gwelwch yn dda.",
        "status.heard": (
            "I glywed hyn eto, pwyswch 1. I siarad â chynghorydd, pwyswch 0. "
            "Fel arall, diolch am ffonio. Gallwch roi'r ffôn i lawr nawr."
        ),
        "status.goodbye": "Diolch am ffonio. Hwyl fawr.",
        "status.none_open": "Nid oes ceisiadau agored ar gyfer y rhif rydych yn ffonio ohono.",
        "status.verify": (
            "I glywed am y cais hwn, rhowch ddyddiad geni'r person y mae ar ei gyfer, fel wyth digid, "
            "diwrnod, mis a blwyddyn, ac yna'r allwedd hash."
        ),
        "status.not_verified": "Mae'n ddrwg gen i, nid yw hynny'n cyfateb i'n cofnodion.",
        "sr.intro": "Mae eich cais, cyfeirnod {reference},",
        "sr.received": "wedi dod i law ac yn aros i'r tîm edrych arno.",
        "sr.triaged": "wedi'i asesu ac yn aros am weithiwr.",
        "sr.allocated": "wedi'i roi i weithiwr, a fydd yn cysylltu â chi.",
        "sr.visit_booked": "ag ymweliad wedi'i drefnu.",
        "sr.in_progress": "ar y gweill.",
        "sr.completed": "wedi'i gwblhau.",
        "sr.closed": "wedi'i gau.",
        "sr.cancelled": "wedi'i ganslo.",
        "sr.due": "Mae'r cam nesaf i fod erbyn {when}.",
        "sr.overdue": "Roedd y cam nesaf i fod erbyn {when} ac mae'n hwyr. Rydym wedi nodi eich galwad.",
        "sr.more": "Mae gennych {count} cais agored arall. Gall cynghorydd ddweud wrthych amdanynt.",
    },
}

_WELSH_DAYS = (
    "dydd Llun",
    "dydd Mawrth",
    "dydd Mercher",
    "dydd Iau",
    "dydd Gwener",
    "dydd Sadwrn",
    "dydd Sul",
)
_WELSH_MONTHS = (
    "Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
    "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr",
)  # fmt: skip


def phrase(language: str, key: str, **values: object) -> str:
    table = PHRASES.get(language) or PHRASES["en-GB"]
    text = table.get(key) or PHRASES["en-GB"][key]
    return text.format(**values) if values else text


def spoken_day(moment: datetime, language: str) -> str:
    """``Tuesday 3 March`` (local time), or its Welsh."""
    if language == "cy-GB":
        return f"{_WELSH_DAYS[moment.weekday()]} {moment.day} {_WELSH_MONTHS[moment.month - 1]}"
    return moment.strftime("%A %-d %B")


def spoken_reference(reference: str) -> str:
    """``SR-000123`` -> ``1 2 3``: the digits a caller keys in."""
    digits = reference.removeprefix("SR-").lstrip("0")
    return " ".join(digits) if digits.isdigit() else reference
