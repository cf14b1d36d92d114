"""The script linter: every rejection in domain.md, each naming the script, the node and the reason.

Rejections (rule names are stable, tests match on them): ``format``, ``duplicate_id``, ``bad_start``,
``answer_without_next``, ``unknown_next``, ``unreachable``, ``cycle``, ``path_without_outcome``,
``red_flag_continues``, ``red_flag_not_urgent``, ``outcome_without_skill``,
``outcome_without_timeframe``, ``test_failed``, ``no_tests``, ``template``, ``unknown_hazard``,
``approval_missing``, ``approved_content_changed``, ``unknown_skill``, ``unknown_service``,
``unknown_queue``, ``unknown_service_type``, ``signpost_without_service_type``,
``duplicate_version``. Outcomes no test reaches are reported, not rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scripts.engine import reached_outcome, run_test
from scripts.model import Script, ScriptFormatError, is_urgent, load_script
from scripts.render import SAMPLE, PromptError, render


@dataclass(frozen=True, slots=True)
class Problem:
    script: str
    node: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.script}: {self.node}: [{self.rule}] {self.message}"


@dataclass(frozen=True, slots=True)
class References:
    """What a centre configures, to check a script's skills, services and queues against."""

    skills: frozenset[str]
    services: frozenset[str]
    queues: frozenset[str]
    service_types: frozenset[str] | None = None  # the directory's vocabulary, when it is installed


def centre_references(centre_dir: Path | None = None) -> References:
    """The references of a centre folder (default: the shipped demo) and the shipped directory."""
    from cti.config.centre import DEMO_DIR, load_centre

    centre = load_centre(centre_dir or DEMO_DIR)
    try:
        from knowledge.directory import SERVICE_TYPES

        service_types: frozenset[str] | None = frozenset(SERVICE_TYPES)
    except ImportError:  # pragma: no cover - the knowledge package ships with the product
        service_types = None
    return References(
        frozenset(centre.skills), frozenset(centre.services), frozenset(centre.queues), service_types
    )


@dataclass
class LintReport:
    source: str
    script: Script | None
    problems: list[Problem] = field(default_factory=list)
    untested_outcomes: list[str] = field(default_factory=list)
    tests_run: int = 0
    tests_passed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _graph_problems(script: Script, add: _Adder) -> None:
    nodes = [q.id for q in script.questions] + [o.id for o in script.outcomes]
    seen: set[str] = set()
    for node in nodes:
        if node in seen:
            add(node, "duplicate_id", f"id '{node}' is used by more than one node")
        seen.add(node)
    questions = {q.id: q for q in script.questions}
    outcomes = {o.id for o in script.outcomes}
    if script.start not in questions:
        add("script", "bad_start", f"start '{script.start}' is not a question")
    edges: dict[str, list[str]] = {}
    for q in script.questions:
        targets = edges.setdefault(q.id, [])
        if not q.answers:
            add(q.id, "path_without_outcome", "the question has no answers")
        answer_ids: set[str] = set()
        for a in q.answers:
            if a.id in answer_ids:
                add(q.id, "duplicate_id", f"answer id '{a.id}' is used twice")
            answer_ids.add(a.id)
            if a.next is None:
                add(q.id, "answer_without_next", f"answer '{a.id}' has no next step")
            elif a.next not in questions and a.next not in outcomes:
                add(q.id, "unknown_next", f"answer '{a.id}' leads to unknown node '{a.next}'")
            else:
                targets.append(a.next)
    # Reachable from the start.
    reachable: set[str] = set()
    stack = [script.start] if script.start in questions else []
    while stack:
        node = stack.pop()
        if node not in reachable:
            reachable.add(node)
            stack.extend(edges.get(node, []))
    for node in nodes:
        if node not in reachable and script.start in questions:
            add(node, "unreachable", "no path from the start reaches this node")
    # Cycles (depth-first, three colours); each cycle is named once, at the node that closes it.
    colour: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        colour[node] = 1
        for nxt in edges.get(node, []):
            if colour.get(nxt) == 1:
                path = [*trail, node]
                loop = [*path[path.index(nxt) :], nxt]
                add(node, "cycle", "the script loops: " + " -> ".join(loop))
            elif nxt not in colour:
                visit(nxt, [*trail, node])
        colour[node] = 2

    for qid in questions:
        if qid not in colour:
            visit(qid, [])
    # Questions from which no outcome can be reached.
    leads_out: set[str] = set(outcomes)
    changed = True
    while changed:
        changed = False
        for qid, targets in edges.items():
            if qid not in leads_out and any(t in leads_out for t in targets):
                leads_out.add(qid)
                changed = True
    for qid in questions:
        if qid not in leads_out and qid in reachable and questions[qid].answers:
            add(qid, "path_without_outcome", "no outcome can be reached from this question")


def _content_problems(script: Script, add: _Adder, refs: References | None) -> None:
    hazards = {h.id for h in script.hazards}
    for q in script.questions:
        for a in q.answers:
            if not a.red_flag or a.next is None:
                continue
            outcome = script.outcome(a.next)
            if outcome is None:
                add(q.id, "red_flag_continues", f"red-flag answer '{a.id}' must end the script at an outcome")
            elif outcome.action == "signpost" or not is_urgent(outcome.timeframe):
                add(
                    q.id,
                    "red_flag_not_urgent",
                    f"red-flag answer '{a.id}' leads to '{outcome.id}' ({outcome.action}, "
                    f"{outcome.timeframe}): a red flag needs an urgent outcome (within 4h, not signposting)",
                )
        for ref in q.hazards:
            if ref not in hazards:
                add(q.id, "unknown_hazard", f"hazard '{ref}' is not in the script's hazards")
        for name, text in [("text", q.text), ("help", q.help), ("rationale", q.rationale)] + [
            (f"answer {a.id}", a.text) for a in q.answers
        ]:
            _check_template(q.id, name, text, add)
    for o in script.outcomes:
        if not o.skill:
            add(o.id, "outcome_without_skill", "the outcome names no skill")
        if not o.timeframe:
            add(o.id, "outcome_without_timeframe", "the outcome names no timeframe")
        for ref in o.hazards:
            if ref not in hazards:
                add(o.id, "unknown_hazard", f"hazard '{ref}' is not in the script's hazards")
        _check_template(o.id, "text", o.text, add)
        if refs is not None:
            if o.skill and o.skill not in refs.skills:
                add(o.id, "unknown_skill", f"skill '{o.skill}' is not configured")
            if o.service and o.service not in refs.services:
                add(o.id, "unknown_service", f"service '{o.service}' is not configured")
            if o.queue and o.queue not in refs.queues:
                add(o.id, "unknown_queue", f"queue '{o.queue}' is not configured")
            if o.service_type and refs.service_types is not None and o.service_type not in refs.service_types:
                add(o.id, "unknown_service_type", f"service type '{o.service_type}' is not in the directory")
        if o.action == "signpost" and not o.service_type:
            add(
                o.id,
                "signpost_without_service_type",
                "signposting needs a service type to find directory entries",
            )
    if refs is not None:
        for s in script.services:
            if s not in refs.services:
                add("script", "unknown_service", f"service '{s}' is not configured")
    if script.status == "approved":
        if script.approval is None:
            add(
                "script",
                "approval_missing",
                "status is approved but no approval (by, hash, date) is recorded",
            )
        elif script.approval.hash != script.hash:
            add(
                "script",
                "approved_content_changed",
                f"version {script.version} was approved as {script.approval.hash[:12]} but its content "
                f"now hashes to {script.hash[:12]}: an approved version is immutable, make a new version",
            )


def _check_template(node: str, name: str, text: str, add: _Adder) -> None:
    try:
        render(text, SAMPLE)
    except PromptError as exc:
        add(node, "template", f"{name}: {exc}")


class _Adder:
    def __init__(self, report: LintReport, script: str) -> None:
        self.report, self.script = report, script

    def __call__(self, node: str, rule: str, message: str) -> None:
        self.report.problems.append(Problem(self.script, node, rule, message))


def lint_script(script: Script, source: str = "", refs: References | None = None) -> LintReport:
    report = LintReport(source or script.id, script)
    add = _Adder(report, script.id)
    _graph_problems(script, add)
    _content_problems(script, add, refs)
    if not script.tests:
        add("script", "no_tests", "the script carries no built-in test cases")
    reached: set[str] = set()
    for test in script.tests:
        report.tests_run += 1
        failure = run_test(script, test)
        if failure is None:
            report.tests_passed += 1
        else:
            add(f"test '{test.name}'", "test_failed", failure)
        outcome = reached_outcome(script, test)
        if outcome is not None:
            reached.add(outcome)
    report.untested_outcomes = [o.id for o in script.outcomes if o.id not in reached]
    return report


def lint_file(path: Path, refs: References | None = None) -> LintReport:
    try:
        script = load_script(path)
    except ScriptFormatError as exc:
        report = LintReport(str(path), None)
        for node, message in exc.problems:
            report.problems.append(Problem(exc.script, node, "format", message))
        return report
    return lint_script(script, str(path), refs)


def script_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def lint_paths(paths: Iterable[Path], refs: References | None = None) -> list[LintReport]:
    """Lint every ``*.yaml`` under the given files and folders; one version has one content."""
    reports = [lint_file(f, refs) for f in script_files(paths)]
    seen: dict[tuple[str, int], str] = {}
    for report in reports:
        s = report.script
        if s is None:
            continue
        key = (s.id, s.version)
        if key in seen and seen[key] != s.hash:
            report.problems.append(
                Problem(s.id, "script", "duplicate_version", f"version {s.version} exists with other content")
            )
        seen.setdefault(key, s.hash)
    return reports
