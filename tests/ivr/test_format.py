"""Loading flows: the shipped ones load; a broken one is refused with its file, node and field named."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from cti.config.centre import CentreConfig
from cti.domain.errors import ConfigError
from ivr.flows import FLOWS_DIR, FlowSet, load_flows


def test_every_configured_number_has_a_shipped_flow(flows: FlowSet, centre: CentreConfig) -> None:
    assert set(flows.flows) == {"front_door", "professional", "service_line"}
    assert {n.flow for n in centre.numbers.values()} <= set(flows.flows)


def _write(tmp_path: Path, flow: dict[str, Any], name: str = "broken") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(flow), encoding="utf-8")
    return path


def _flow(**nodes: Any) -> dict[str, Any]:
    return {
        "start": "start",
        "adviser": "adviser",
        "nodes": {"adviser": {"kind": "enqueue", "queue": "amh_spa"}, **nodes},
    }


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"kind": "sing"}, "broken.yaml: entry 'node 'start'', field 'kind': Input tag 'sing'"),
        ({"kind": "say", "sayy": "x"}, "field 'sayy': unknown field"),
        (
            {"kind": "menu", "options": [{"key": "x", "next": "adviser"}]},
            "field 'options[0].key': a key is one of",
        ),
        (
            {"kind": "menu", "options": [{"key": "1", "next": "adviser"}, {"key": "1", "next": "adviser"}]},
            "two choices use the same key",
        ),
        ({"kind": "collect", "validate": "shoe_size", "store": "x", "next": "adviser"}, "field 'validate'"),
        ({"kind": "hours", "open": "adviser", "closed": "adviser"}, "give exactly one of queue or calendar"),
        ({"kind": "say", "next": "nowhere"}, "field 'next': no node 'nowhere' in this flow"),
        ({"kind": "say", "say": {"fr-FR": "Bonjour"}}, "field 'say.fr-FR': language not listed"),
        (
            {"kind": "enqueue", "queue": "no_such_queue"},
            "field 'queue': no queue 'no_such_queue' in the centre",
        ),
        ({"kind": "transfer", "number": "12ab"}, "field 'number'"),
    ],
)
def test_a_broken_node_is_named(
    tmp_path: Path, centre: CentreConfig, node: dict[str, Any], expected: str
) -> None:
    path = _write(tmp_path, _flow(start=node))
    with pytest.raises(ConfigError) as error:
        load_flows(path, centre)
    assert "broken.yaml" in error.value.message and "node 'start'" in error.value.message
    assert expected in error.value.message


def test_flow_level_problems(tmp_path: Path, centre: CentreConfig) -> None:
    with pytest.raises(ConfigError, match=r"broken.yaml: entry '\(flow\)', field 'start': no node 'start'"):
        load_flows(_write(tmp_path, {"start": "start", "adviser": "a", "nodes": {"a": {"kind": "hangup"}}}))
    text = "start: a\nadviser: a\nnodes:\n  a: {kind: hangup}\n  a: {kind: hangup}\n"
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="key written twice"):
        load_flows(tmp_path / "broken.yaml")


def test_a_number_without_a_flow_is_refused(tmp_path: Path, centre: CentreConfig) -> None:
    only = _write(tmp_path, _flow(start={"kind": "say", "next": "adviser"}), name="front_door")
    with pytest.raises(ConfigError, match=r"numbers.yaml: entry '\+441164960001', field 'flow': no IVR flow"):
        load_flows(only.parent, centre)
    assert load_flows(FLOWS_DIR, centre).get("front_door") is not None


def test_a_number_sent_to_its_own_queue_needs_one(tmp_path: Path, centre: CentreConfig) -> None:
    for name in ("front_door", "professional"):
        _write(tmp_path, _flow(start={"kind": "say", "next": "adviser"}), name=name)
    line = {
        "start": "start",
        "adviser": "start",
        "nodes": {"start": {"kind": "enqueue", "from_number": True}},
    }
    _write(tmp_path, line, name="service_line")
    assert load_flows(tmp_path, centre).get("service_line") is not None
    rutland = centre.numbers["+441164960012"]  # front_door: no queue of its own
    numbers = {**centre.numbers, rutland.number: rutland.model_copy(update={"flow": "service_line"})}
    with pytest.raises(
        ConfigError, match=r"\+441164960012', field 'queue': flow 'service_line' sends callers"
    ):
        load_flows(tmp_path, dataclasses.replace(centre, numbers=numbers))
