"""Word lists for the synthetic demo records. Invented people, streets and organisations only."""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list (over several lines if need be) as a tuple."""
    return tuple(w.strip() for w in text.replace("\n", ",").split(",") if w.strip())


@dataclass(frozen=True, slots=True)
class Background:
    """Names that go together in one household, and the interpreter language some of them need."""

    weight: int
    language: str | None
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]


BACKGROUNDS = (
    Background(
        70,
        None,
        _words("""
            Margaret, Jean, Patricia, Barbara, Susan, Linda, Carol, Joan, Doreen, Eileen, Sarah, Emma,
            Chloe, Grace, Ruth, Janet, Brenda, Kathleen, Mary, Elizabeth, Dorothy, Irene, Sheila,
            Maureen, Pauline, Anne, Gwen, John, David, Peter, Michael, Brian, Alan, Keith, Derek, Colin,
            Trevor, James, Thomas, Daniel, George, Harry, Stephen, Gary, Ronald, Dennis"""),
        _words("""
            Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson,
            Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Hughes, Turner, Hill,
            Cooper, Ward, Harris, Martin, Baker, Moore, Parker, Shaw, Marsh, Fletcher, Holt, Bramley"""),
    ),
    Background(
        6,
        "pl",
        _words("Anna, Katarzyna, Maria, Agnieszka, Piotr, Krzysztof, Andrzej, Tomasz, Zofia"),
        _words("Nowak, Kowalski, Wiśniewski, Wójcik, Kamińska, Lewandowski, Zielińska"),
    ),
    Background(
        7,
        "pa",
        _words("Gurpreet, Harjit, Jaswinder, Manjit, Kulwant, Baljit, Amrik, Paramjit, Simran"),
        _words("Singh, Kaur, Sandhu, Gill, Dhillon, Sidhu, Bains, Johal"),
    ),
    Background(
        8,
        "gu",
        _words("Hansa, Kokila, Jayesh, Pravin, Nirmala, Ramesh, Bhavna, Dinesh, Kantaben"),
        _words("Patel, Mistry, Parmar, Solanki, Chauhan, Lad, Joshi, Thakkar"),
    ),
    Background(
        5,
        "ur",
        _words("Nasreen, Shabana, Imran, Tariq, Farzana, Zubair, Rukhsana, Asif, Bushra"),
        _words("Hussain, Akhtar, Khan, Mahmood, Iqbal, Rashid, Qureshi, Bibi"),
    ),
    Background(
        2,
        "so",
        _words("Hodan, Faadumo, Abdirahman, Ayaan, Mohamed, Hawa, Cabdi, Sahra, Idil"),
        _words("Warsame, Farah, Abdi, Hassan, Jama, Osman, Yusuf, Nur"),
    ),
    Background(
        2,
        "ar",
        _words("Fatima, Layla, Omar, Yousef, Mariam, Khaled, Nour, Samir, Huda"),
        _words("Haddad, Mansour, Saleh, Nasser, Darwish, Khalil, Aziz, Hamdan"),
    ),
)

STREETS = _words("""
    Mill Lane, Church Street, Station Road, Victoria Road, Orchard Close, Meadow View, Fosse Way,
    Granby Terrace, Willow Court, Beacon Rise, Hollybush Walk, Tanners Row, Brook Drive,
    Kingfisher Way, Quarry Hill, Saxon Gardens, Elm Grove, Coronation Avenue""")
TOWNS = (("Fosseway", "LE4"), ("Wreake Vale", "LE7"), ("Soar Bridge", "LE11"), ("Charnwood Edge", "LE12"))

SERVICE_WEIGHTS = {
    "city_spoc": 30,
    "chs_spa": 28,
    "amh_spa": 10,
    "bed_bureau": 4,
    "icrs": 10,
    "fcp": 8,
    "county_csc": 10,
}
# Target times for a new request, in hours (illustrative, not contractual).
SERVICE_DUE_HOURS = {
    "city_spoc": 336,
    "chs_spa": 48,
    "amh_spa": 24,
    "bed_bureau": 4,
    "icrs": 2,
    "fcp": 336,
    "county_csc": 240,
}
SERVICE_REASONS = {
    "city_spoc": _words(
        "care_package, carer_breakdown, equipment, safeguarding_concern, financial_assessment"
    ),
    "chs_spa": _words("wound_care, continence, medication, catheter, end_of_life"),
    "amh_spa": _words("low_mood, anxiety, medication, crisis"),
    "bed_bureau": _words("step_down_bed, hospital_discharge"),
    "icrs": _words("fall, urgent_response, carer_breakdown"),
    "fcp": _words("back_pain, joint_pain, mobility"),
    "county_csc": _words("blue_badge, housing_repair, council_tax, bins"),
}
SERVICE_SUMMARIES = {
    "city_spoc": _words(
        "Care needs assessment, Review of care package, Carer's assessment, Equipment for bathing"
    ),
    "chs_spa": _words("Leg ulcer dressing, Continence assessment, Catheter care, Insulin visits"),
    "amh_spa": _words("Community mental health assessment, Medication review with CPN, Wellbeing follow-up"),
    "bed_bureau": _words("Step-down bed on discharge, Reablement bed request"),
    "icrs": _words("Urgent response to a fall at home, Urgent response when a carer cannot cope"),
    "fcp": _words("Physiotherapy for back pain, Physiotherapy for knee pain"),
    "county_csc": _words("Blue badge application, Grab rails fitted at home, Housing repair referral"),
}
OUTCOMES_RESOLVED = ("advice_given", "status_given", "signposted")
OUTCOMES_ONWARD = ("warm_handover", "callback_arranged", "referral_made")

PRACTICES = _words("""
    Fosse Road Surgery, Wreake Valley Medical Centre, Soar Bridge Health Centre, Beacon Practice,
    Granby Family Practice, Charnwood Edge Surgery, Meadow View Medical Group, Saxon Street Surgery,
    Kingfisher Health Partnership, Orchard Medical Practice""")
CLINICIANS = _words("""
    Dr Priya Shah, Dr Tom Ellison, Dr Helen Mayhew, Dr Kwame Mensah, Dr Aisha Rahman,
    Dr Neil Fairbrother, Dr Sian Pritchard, Dr Marek Zielinski, Dr Ruth Okonjo, Dr Owen Pike,
    Dr Leah Bamford, Dr Vikram Rao, Dr Clare Dunmore, Dr Ian Whitlock, Dr Hana Yilmaz,
    Dr Pete Arkwright, Dr Sunita Chauhan, Dr Adam Royce, Dr Beth Lomax, Dr Femi Adeyemi""")
COMMUNITY_ROLES = (
    ("district nurse", "Community Nursing East"),
    ("district nurse", "Community Nursing West"),
    ("social worker", "Adult Social Care Locality Team"),
    ("community psychiatric nurse", "Community Mental Health Team"),
    ("ambulance clinician", "Regional Ambulance Service"),
    ("discharge coordinator", "General Hospital Discharge Hub"),
    ("care home manager", "Beacon Rise Care Home"),
    ("community pharmacist", "Granby Pharmacy"),
)
COMMUNITY_NAMES = _words("""
    Karen Oldroyd, Mo Farouk, Lucy Brennan, Deepa Nair, Stuart Keel, Jade Whitmore, Tariq Bashir,
    Nina Kowalczyk, Rob Astley, Gemma Hurst, Yusuf Ali, Claire Bostock""")

# Staff who can hold an allocation (the demo logins use the same usernames).
_SPECIALISTS = _words("Jo Birch, Ali Khan, Megan Price, Sunil Varma, Kath Doyle, Ben Ashworth")
_AGENTS = _words("""
    Amy Reed, Ravi Mistry, Chris Hale, Dawn Pryce, Ellis Grant, Fay Morton, Gita Lal, Hugh Benn,
    Isla Ford, Jack Tate, Kiran Dosanjh, Lena Ward, Matt Cole, Nadia Aziz, Owen Lake, Pippa Rowe,
    Qasim Noor, Rosa Lind, Sean Platt, Tess Vale""")
SPECIALISTS = {f"specialist{i:02d}": name for i, name in enumerate(_SPECIALISTS, start=1)}
AGENTS = {f"agent{i:02d}": name for i, name in enumerate(_AGENTS, start=1)}
