"""``frontdoor ivr lint``: what a flow's author must fix before callers meet the flow.

Beyond what loading checks (the format, that every node named exists, that queues exist):
- unreachable nodes (nothing leads to them from the start);
- dead ends: a node that ends the call without a hang-up node or a way on, or from which no path
  leaves the IVR (a loop of nodes that never ends);
- menus and prompts with no way to a human: key 0 taken for something else or switched off, or no
  path from them to an enqueue, a callback or a transfer; and an adviser node that reaches nobody.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

from cti.config.centre import CentreConfig
from cti.domain.errors import ConfigError
from ivr.flows import FLOWS_DIR, FlowSet, load_flows
from ivr.model import ASKING, HUMAN_NODES, TERMINAL_NODES, Flow, MenuNode, SayNode, successors


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    node: str  # "(flow)" for the flow as a whole
    message: str

    def __str__(self) -> str:
        if self.node == "(load)":
            return self.message  # names the file, the node and the field itself
        if self.node == "(flow)":
            return f"{self.file}: {self.message}"
        return f"{self.file}: node '{self.node}': {self.message}"


def _reachable(flow: Flow, start: str) -> set[str]:
    seen = {start}
    todo = deque([start])
    while todo:
        for target in successors(flow.nodes[todo.popleft()], flow):
            if target in flow.nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def lint_flow(flow: Flow, file: str) -> list[Problem]:
    problems: list[Problem] = []
    reach = {node_id: _reachable(flow, node_id) for node_id in flow.nodes}
    from_start = reach[flow.start]
    for node_id in flow.nodes:
        if node_id not in from_start:
            problems.append(Problem(file, node_id, "unreachable: no path leads here from the start"))
    humans = {n for n, node in flow.nodes.items() if isinstance(node, HUMAN_NODES)}
    exits = {n for n, node in flow.nodes.items() if isinstance(node, TERMINAL_NODES)}
    if not reach[flow.adviser] & humans:
        problems.append(Problem(file, "(flow)", f"the adviser node '{flow.adviser}' reaches no person"))
    for node_id, node in flow.nodes.items():
        if isinstance(node, SayNode) and node.next is None:
            problems.append(
                Problem(file, node_id, "dead end: the call ends here without a hangup node (give next)")
            )
        elif not reach[node_id] & exits:
            problems.append(Problem(file, node_id, "dead end: no path from here ever leaves the IVR"))
        if isinstance(node, ASKING):
            what = "menu" if isinstance(node, MenuNode) else f"{node.kind} prompt"
            keys = {o.key for o in node.options} if isinstance(node, MenuNode) else set()
            if not node.adviser:
                problems.append(
                    Problem(file, node_id, f"{what} has no key {flow.adviser_key} for an adviser")
                )
            elif flow.adviser_key in keys:
                problems.append(
                    Problem(file, node_id, f"{what} uses key {flow.adviser_key}, kept for an adviser")
                )
            if not reach[node_id] & humans:
                problems.append(Problem(file, node_id, f"{what} has no way to a human"))
    return problems


def lint(flows: FlowSet) -> list[Problem]:
    problems: list[Problem] = []
    for name, flow in flows.flows.items():
        problems += lint_flow(flow, flows.files[name])
    return problems


def lint_path(path: Path = FLOWS_DIR, centre: CentreConfig | None = None) -> list[Problem]:
    """Load (a problem loading is reported, not raised) and lint a flow file or a folder of flows."""
    try:
        flows = load_flows(path, centre)
    except ConfigError as exc:
        return [Problem(str(exc.details.get("file", path)), "(load)", exc.message)]
    return lint(flows)
