"""Every kind of invalid centre configuration is refused with the file, entry and field named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cti.config import load_centre
from cti.domain.errors import ConfigError
from tests.config.conftest import Editor


def find(data: dict[str, Any], key: str, ident: str, id_field: str = "id") -> dict[str, Any]:
    for item in data[key]:
        if item[id_field] == ident:
            assert isinstance(item, dict)
            return item
    raise KeyError(ident)


def queue(ident: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return lambda data: change(find(data, "queues", ident))


def user(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return lambda data: change(find(data, "users", name, "username"))


def number(raw: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return lambda data: change(find(data, "numbers", raw, "number"))


def calendar(ident: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return lambda data: change(find(data, "calendars", ident))


def refused(folder: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_centre(folder)
    return caught.value


def assert_names(error: ConfigError, file: str, entry: str, field: str, problem: str) -> None:
    assert error.error_id == "config_invalid"
    assert (error.details["file"], error.details["entry"], error.details["field"]) == (file, entry, field)
    assert file in error.message
    assert f"'{entry}'" in error.message
    assert f"'{field}'" in error.message
    assert problem in error.message


Q, SK, SV, H, N, U = "queues.yaml", "skills.yaml", "services.yaml", "hours.yaml", "numbers.yaml", "users.yaml"

# (file, change, "entry | field | problem")
CASES = [
    (Q, queue("asc_triage", lambda q: q.update(colour="red")), "asc_triage | colour | unknown field"),
    (
        Q,
        queue("asc_triage", lambda q: q.update(base_priority="high")),
        "asc_triage | base_priority | valid integer",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(base_priority=10)),
        "asc_triage | base_priority | less than or equal to 9",
    ),
    (Q, queue("asc_triage", lambda q: q.pop("name")), "asc_triage | name | required field is missing"),
    (
        Q,
        queue("asc_triage", lambda q: q["requirements"][0].update(skill="PODIATRY")),
        "asc_triage | requirements[0].skill | unknown skill 'PODIATRY'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q["requirements"][0].update(min_proficiency=4)),
        "asc_triage | requirements[0].min_proficiency | less than or equal to 3",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q["requirements"][0].update(min_proficiency=0)),
        "asc_triage | requirements[0].min_proficiency | greater than or equal to 1",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q["requirements"].append({"skill": "ASC"})),
        "asc_triage | requirements | ASC is required more than once",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q["overflow"][0].update(to_queue="nowhere")),
        "asc_triage | overflow[0].to_queue | unknown queue 'nowhere'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q["overflow"][0].update(to_queue="asc_triage")),
        "asc_triage | overflow[0].to_queue | cannot overflow to itself",
    ),
    (
        Q,
        queue("chs_spa", lambda q: q["overflow"][0]["to_skills"][0].update(skill="NURSE")),
        "chs_spa | overflow[0].to_skills[0].skill | unknown skill 'NURSE'",
    ),
    (
        Q,
        queue("chs_spa", lambda q: q["overflow"][0].update(to_queue="amh_spa")),
        "chs_spa | overflow[0] | exactly one of 'to_queue' or 'to_skills'",
    ),
    (
        Q,
        queue("chs_spa", lambda q: q["overflow"][0].update(after_s=0)),
        "chs_spa | overflow[0].after_s | greater than 0",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(hours="weekends")),
        "asc_triage | hours | unknown hours calendar 'weekends'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(service="podiatry")),
        "asc_triage | service | unknown service 'podiatry'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.pop("out_of_hours")),
        "asc_triage | out_of_hours | calendar 'asc_hours' is not open at all times",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(out_of_hours={"queue": "nowhere"})),
        "asc_triage | out_of_hours.queue | unknown queue 'nowhere'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(out_of_hours={"queue": "ooh_fallback", "transfer": "111"})),
        "asc_triage | out_of_hours | exactly one of 'queue' or 'transfer'",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(out_of_hours={"transfer": "123"})),
        "asc_triage | out_of_hours.transfer | not a valid phone number",
    ),
    (
        Q,
        queue("ooh_fallback", lambda q: q.update(hours="asc_hours", out_of_hours={"queue": "asc_triage"})),
        "asc_triage | out_of_hours.queue | loop: asc_triage -> ooh_fallback -> asc_triage",
    ),
    (
        Q,
        queue("asc_triage", lambda q: q.update(service_level={"target": 1.5})),
        "asc_triage | service_level.target | less than or equal to 1",
    ),
    (Q, lambda d: d["queues"].append(dict(find(d, "queues", "asc_duty"))), "asc_duty | id | duplicate id"),
    (
        Q,
        lambda d: d["queues"].append({"id": "Bad Id", "name": "x", "service": "fcp"}),
        "Bad Id | id | should match pattern",
    ),
    (Q, lambda d: d["queues"].append(["not", "a", "mapping"]), "item 13 | (entry) | expected a mapping"),
    (SK, lambda d: d["skills"].append({"id": "ASC", "name": "again"}), "ASC | id | duplicate id"),
    (SK, lambda d: d["skills"].append({"id": "LANG_PL", "name": "Polish"}), "LANG_PL | id | not a skill id"),
    (
        SV,
        lambda d: d["services"][0].update(organisation="Derby"),
        "city_spoc | organisation | 'City', 'County', 'Rutland', 'LPT' or 'UHL'",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c["weekly"].update(mon=[["08:00", "25:00"]])),
        "asc_hours | weekly.mon | '25:00' is not a time",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c["weekly"].update(mon=[["20:00", "08:00"]])),
        "asc_hours | weekly.mon | ends before it starts",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c["weekly"].update(mon=[["08:00", "13:00"], ["12:00", "17:00"]])),
        "asc_hours | weekly.mon | 08:00-13:00 and 12:00-17:00 overlap",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c["weekly"].update(mon="sometimes")),
        'asc_hours | weekly.mon | expected "24h", "closed"',
    ),
    (
        H,
        calendar("asc_hours", lambda c: c["weekly"].update(monday="24h")),
        "asc_hours | weekly.monday | unknown field",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c.update(timezone="Europe/Leicester")),
        "asc_hours | timezone | unknown time zone",
    ),
    (
        H,
        calendar("asc_hours", lambda c: c.update(bank_holidays="maybe")),
        'asc_hours | bank_holidays | expected "24h", "closed"',
    ),
    (
        H,
        calendar("office_hours", lambda c: c.update(closed_dates=["2026-12-24"])),
        "office_hours | extra_dates | 2026-12-24 is given more than once",
    ),
    (
        N,
        number("0116 496 0010", lambda n: n.update(queue="nowhere")),
        "+441164960010 | queue | unknown queue 'nowhere'",
    ),
    (
        N,
        number("0116 496 0010", lambda n: n.update(service="podiatry")),
        "+441164960010 | service | unknown service 'podiatry'",
    ),
    (
        N,
        number("0116 496 0010", lambda n: n.update(number="0116 496")),
        "0116 496 | number | not a valid phone number",
    ),
    (
        N,
        number("0116 496 0010", lambda n: n.update(number="+44 116 496 0000")),
        "+441164960000 | number | duplicate number",
    ),
    (
        N,
        number("0116 496 0010", lambda n: n.update(kind="fax")),
        "+441164960010 | kind | 'front_door', 'professional' or 'service'",
    ),
    (
        U,
        user("agent01", lambda u: u["skills"].update(LANG_fr=2)),
        "agent01 | skills.LANG_fr | unknown skill 'LANG_fr'",
    ),
    (
        U,
        user("agent01", lambda u: u["skills"].update(ASC=4)),
        "agent01 | skills.ASC | less than or equal to 3",
    ),
    (U, user("agent01", lambda u: u.update(role="boss")), "agent01 | role | 'agent', 'specialist'"),
    (U, user("agent02", lambda u: u.update(username="agent01")), "agent01 | username | duplicate username"),
    (
        U,
        user("admin", lambda u: u.update(password_hash="letmein")),
        "admin | password_hash | not an argon2 hash",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), CASES)
def test_invalid_entry_is_named(
    centre_dir: Path, edit: Editor, file: str, change: Callable[[Any], None], expected: str
) -> None:
    edit(file, change)
    entry, field, problem = expected.split(" | ")
    assert_names(refused(centre_dir), file, entry, field, problem)


def test_password_is_not_echoed(centre_dir: Path, edit: Editor) -> None:
    edit("users.yaml", user("admin", lambda u: u.update(password_hash="letmein")))
    assert "letmein" not in refused(centre_dir).message


def test_yaml_syntax_error_names_line(centre_dir: Path) -> None:
    path = centre_dir / "queues.yaml"
    path.write_text("queues:\n  - id: asc_triage\n    name: [unclosed\n", encoding="utf-8")
    error = refused(centre_dir)
    assert error.details["file"] == "queues.yaml"
    assert error.details["entry"].startswith("line ")
    assert error.details["field"] == "(syntax)"
    assert "invalid YAML" in error.message


def test_key_written_twice_is_refused(centre_dir: Path) -> None:
    path = centre_dir / "routing.yaml"
    path.write_text("offer_timeout_s: 20\noffer_timeout_s: 30\n", encoding="utf-8")
    assert_names(refused(centre_dir), "routing.yaml", "line 2", "offer_timeout_s", "key written twice")


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("offer_timeout_s: 0\n", "offer_timeout_s", "greater than 0"),
        ("offer_timeout: 20\n", "offer_timeout", "unknown field"),
        ("- 1\n", "(entry)", "expected a mapping"),
    ],
)
def test_invalid_routing_policy(centre_dir: Path, text: str, field: str, problem: str) -> None:
    (centre_dir / "routing.yaml").write_text(text, encoding="utf-8")
    assert_names(refused(centre_dir), "routing.yaml", "policy", field, problem)


def test_routing_yaml_is_optional(centre_dir: Path) -> None:
    (centre_dir / "routing.yaml").unlink()
    assert load_centre(centre_dir).routing.offer_timeout_s == 20


def test_missing_file_is_named(centre_dir: Path) -> None:
    (centre_dir / "skills.yaml").unlink()
    error = refused(centre_dir)
    assert error.details["file"] == "skills.yaml"
    assert "file not found" in error.message


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("- {id: ASC, name: x}\n", "skills", "expected a mapping with the key 'skills'"),
        ("skill: []\n", "skill", "unknown top-level key"),
        ("skills: {ASC: x}\n", "skills", "expected a list of entries"),
        ("", "skills", "expected a mapping"),
    ],
)
def test_file_shape_is_checked(centre_dir: Path, text: str, field: str, problem: str) -> None:
    (centre_dir / "skills.yaml").write_text(text, encoding="utf-8")
    assert_names(refused(centre_dir), "skills.yaml", "(file)", field, problem)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder not found"):
        load_centre(tmp_path / "nowhere")


def test_unquoted_times_are_read_as_text(centre_dir: Path) -> None:
    # YAML 1.1 would read 20:00 as the number 1200; the loader keeps it a time.
    path = centre_dir / "hours.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"20:00"', "20:00"), encoding="utf-8")
    assert load_centre(centre_dir).calendars["asc_hours"].weekly.mon == ((8 * 60, 20 * 60),)
