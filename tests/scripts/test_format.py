"""The script format: YAML validated with errors naming the script and the node; the content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.model import ScriptFormatError, load_script, parse_script, timeframe_delta
from tests.scripts.conftest import approved, build, triage, write


def test_a_format_error_names_the_script_the_node_and_the_field() -> None:
    raw = triage()
    raw["outcomes"][1]["action"] = "teleport"
    raw["questions"][1]["answers"][0]["surprise"] = 1
    with pytest.raises(ScriptFormatError) as caught:
        parse_script(raw, "file.yaml")
    assert caught.value.script == "tiny_triage"
    nodes = dict(caught.value.problems)
    assert "action" in nodes["o_duty"]
    assert "answers.0.surprise" in nodes["q_eligible"]


def test_bad_yaml_and_bad_timeframes_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ScriptFormatError, match=r"bad\.yaml: script: not valid YAML"):
        load_script(bad)
    raw = triage()
    raw["outcomes"][0]["timeframe"] = "soonish"
    with pytest.raises(ScriptFormatError, match="o_999: timeframe"):
        parse_script(raw, "x")
    assert timeframe_delta("4h").total_seconds() == 4 * 3600
    assert timeframe_delta("14d").days == 14


def test_the_hash_covers_content_not_lifecycle(tmp_path: Path) -> None:
    draft = build(triage())
    signed = build(approved(triage()))
    assert draft.hash == signed.hash and signed.status == "approved"
    changed = triage()
    changed["questions"][1]["text"] = "Is the person an adult?"
    assert build(changed).hash != draft.hash
    assert draft.ref == f"tiny_triage@1#{draft.hash[:12]}"
    assert load_script(write(tmp_path, triage())).hash == draft.hash
