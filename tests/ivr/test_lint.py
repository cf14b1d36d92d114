"""``frontdoor ivr lint``: the shipped flows pass; unreachable nodes, dead ends and menus with no way to
a human are each reported with the flow file and the node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from cti.cli import app as frontdoor
from ivr.flows import FLOWS_DIR
from ivr.lint import lint_path

ADVISER = {"kind": "enqueue", "queue": "amh_spa"}


def _write(tmp_path: Path, nodes: dict[str, Any], **flow: Any) -> Path:
    path = tmp_path / "flow.yaml"
    body = {"start": "start", "adviser": "adviser", **flow, "nodes": {"adviser": ADVISER, **nodes}}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    return [str(p) for p in lint_path(path)]


def test_the_shipped_flows_pass() -> None:
    assert lint_path(FLOWS_DIR) == []
    result = CliRunner().invoke(frontdoor, ["ivr", "lint"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_unreachable_nodes(tmp_path: Path) -> None:
    path = _write(tmp_path, {"start": {"kind": "say", "next": "adviser"}, "orphan": {"kind": "hangup"}})
    assert _problems(path) == ["flow.yaml: node 'orphan': unreachable: no path leads here from the start"]


def test_dead_ends(tmp_path: Path) -> None:
    ends = _write(tmp_path, {"start": {"kind": "menu", "options": [{"key": "1", "next": "end"}]},
                             "end": {"kind": "say", "say": "Bye"}})  # fmt: skip
    assert (
        "flow.yaml: node 'end': dead end: the call ends here without a hangup node (give next)"
        in _problems(ends)
    )
    loop = _write(
        tmp_path, {"start": {"kind": "say", "next": "again"}, "again": {"kind": "say", "next": "start"}}
    )
    assert set(_problems(loop)) == {
        "flow.yaml: node 'adviser': unreachable: no path leads here from the start",
        "flow.yaml: node 'start': dead end: no path from here ever leaves the IVR",
        "flow.yaml: node 'again': dead end: no path from here ever leaves the IVR",
    }


def test_menus_with_no_way_to_a_human(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "start": {
                "kind": "menu",
                "adviser": False,
                "on_fail": "bye",
                "options": [{"key": "1", "next": "bye"}, {"key": "2", "next": "adviser"}],
            },
            "bye": {"kind": "hangup"},
            "zero": {"kind": "menu", "options": [{"key": "0", "next": "bye"}]},
        },
    )
    problems = _problems(path)
    assert "flow.yaml: node 'start': menu has no key 0 for an adviser" in problems
    assert "flow.yaml: node 'zero': menu uses key 0, kept for an adviser" in problems
    lonely = _write(tmp_path, {"start": {"kind": "menu", "adviser": False, "on_fail": "bye",
                                         "options": [{"key": "1", "next": "bye"}]},
                               "bye": {"kind": "hangup"}})  # fmt: skip
    assert "flow.yaml: node 'start': menu has no way to a human" in _problems(lonely)
    nobody = _write(tmp_path, {"start": {"kind": "hangup"}, "adviser": {"kind": "hangup"}})
    assert "flow.yaml: the adviser node 'adviser' reaches no person" in _problems(nobody)


def test_the_command_exits_1_naming_flow_and_node(tmp_path: Path) -> None:
    path = _write(tmp_path, {"start": {"kind": "say", "next": "adviser"}, "orphan": {"kind": "hangup"}})
    result = CliRunner().invoke(frontdoor, ["ivr", "lint", str(path)])
    assert result.exit_code == 1
    assert "flow.yaml: node 'orphan': unreachable" in result.output
    broken = tmp_path / "bad.yaml"
    broken.write_text("start: a\nadviser: a\nnodes: {a: {kind: enqueue, queue: nope}}\n", encoding="utf-8")
    result = CliRunner().invoke(frontdoor, ["ivr", "lint", str(broken)])
    assert result.exit_code == 1
    assert "bad.yaml: entry 'node 'a'', field 'queue': no queue 'nope' in the centre" in result.output
