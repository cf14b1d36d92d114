"""Loading flows: every ``*.yaml`` in a folder (``ivr/flows/`` by default), each file one flow named
after the file. Problems raise ``ConfigError`` naming the file, the node and the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cti.config._entries import config_error, field_path
from cti.config._yaml import read_yaml
from cti.config.centre import CentreConfig
from cti.domain.errors import ConfigError, InvalidInput
from cti.domain.identifiers import normalise_phone
from ivr.model import (
    CallbackNode,
    EnqueueNode,
    Flow,
    HoursNode,
    Node,
    TransferNode,
    successors,
)

FLOWS_DIR = Path(__file__).with_name("flows")


@dataclass(frozen=True)
class FlowSet:
    flows: Mapping[str, Flow]
    files: Mapping[str, str]  # flow name -> file name, for messages

    def get(self, name: str) -> Flow | None:
        return self.flows.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.flows


NODE: TypeAdapter[Node] = TypeAdapter(Node)


def _node_error(file: str, node_id: str, raw: Any, exc: ValidationError) -> ConfigError:
    errors = exc.errors()
    first = errors[0]
    loc = list(first["loc"])
    if loc and isinstance(raw, dict) and loc[0] == raw.get("kind"):
        loc = loc[1:]  # pydantic puts the discriminator's value first
    problem = "required field is missing" if first["type"] == "missing" else str(first["msg"])
    problem = problem.removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        problem = "unknown field"
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem(s) in this node)"
    return ConfigError(file, f"node '{node_id}'", field_path(loc) if loc else "kind", problem)


def parse_flow(raw: Any, file: str, name: str) -> Flow:
    """Validate one flow's parsed YAML. Node problems name the node; other problems the flow."""
    if not isinstance(raw, dict):
        raise ConfigError(file, "(flow)", "(flow)", "a flow is a mapping with start, adviser and nodes")
    nodes = raw.get("nodes")
    if isinstance(nodes, dict):
        for node_id, node in nodes.items():  # node by node first, so that the error names the node
            try:
                NODE.validate_python(node)
            except ValidationError as exc:
                raise _node_error(file, str(node_id), node, exc) from None
    try:
        flow = Flow.model_validate({**raw, "name": name})
    except ValidationError as exc:
        raise config_error(file, "(flow)", exc) from None
    check_references(flow, file)
    return flow


def check_references(flow: Flow, file: str) -> None:
    for field, target in (("start", flow.start), ("adviser", flow.adviser)):
        if target not in flow.nodes:
            raise ConfigError(file, "(flow)", field, f"no node '{target}' in this flow")
    for node_id, node in flow.nodes.items():
        for target in successors(node, flow):
            if target not in flow.nodes:
                raise ConfigError(file, f"node '{node_id}'", "next", f"no node '{target}' in this flow")
        for text_field in ("say", "invalid", "confirm"):
            text = getattr(node, text_field, None)
            if isinstance(text, dict):
                for language in text:
                    if language not in flow.languages:
                        raise ConfigError(
                            file,
                            f"node '{node_id}'",
                            f"{text_field}.{language}",
                            f"language not listed in the flow's languages ({', '.join(flow.languages)})",
                        )


def check_against_centre(flow: Flow, file: str, centre: CentreConfig) -> None:
    """Queues and calendars named by the flow exist in the centre configuration."""
    for node_id, node in flow.nodes.items():
        queue = getattr(node, "queue", None)
        if isinstance(node, EnqueueNode | CallbackNode | HoursNode) and queue not in (None, *centre.queues):
            raise ConfigError(file, f"node '{node_id}'", "queue", f"no queue '{queue}' in the centre")
        if isinstance(node, HoursNode) and node.calendar not in (None, *centre.calendars):
            raise ConfigError(
                file, f"node '{node_id}'", "calendar", f"no calendar '{node.calendar}' in the centre"
            )
        if isinstance(node, TransferNode):
            try:
                normalise_phone(node.number)
            except InvalidInput as exc:
                raise ConfigError(file, f"node '{node_id}'", "number", exc.message) from None


def load_flow(path: Path, centre: CentreConfig | None = None) -> Flow:
    flow = parse_flow(read_yaml(path, path.name), path.name, path.stem)
    if centre is not None:
        check_against_centre(flow, path.name, centre)
    return flow


def load_flows(folder: Path = FLOWS_DIR, centre: CentreConfig | None = None) -> FlowSet:
    """Every flow in ``folder``; with ``centre``, also checks that every configured number's flow
    exists and that the queues and calendars the flows name are configured."""
    folder = Path(folder)
    paths = [folder] if folder.is_file() else sorted(folder.glob("*.yaml"))
    if not paths:
        raise ConfigError(str(folder), "(folder)", "(folder)", "no flows (*.yaml) found")
    flows: dict[str, Flow] = {}
    files: dict[str, str] = {}
    for path in paths:
        flow = load_flow(path, centre)
        flows[flow.name] = flow
        files[flow.name] = path.name
    if centre is not None and not folder.is_file():
        for number in centre.numbers.values():
            if number.flow not in flows:
                raise ConfigError(
                    "numbers.yaml", number.number, "flow", f"no IVR flow '{number.flow}' in {folder}"
                )
            needs_queue = [
                node_id
                for node_id, node in flows[number.flow].nodes.items()
                if isinstance(node, EnqueueNode | CallbackNode) and node.from_number and node.queue is None
            ]
            if needs_queue and number.queue is None:
                raise ConfigError(
                    "numbers.yaml",
                    number.number,
                    "queue",
                    f"flow '{number.flow}' sends callers to the number's queue (node '{needs_queue[0]}')",
                )
    return FlowSet(flows=flows, files=files)
