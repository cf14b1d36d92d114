"""The shipped Asterisk examples stay least-privilege and match the contexts the adapter drives."""

from __future__ import annotations

import re
from pathlib import Path

from cti.asterisk import legs

EXAMPLES = Path(legs.__file__).parent / "examples"


def sections(path: Path) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if match := re.fullmatch(r"\[([\w-]+)\]", line):
            current = out.setdefault(match.group(1), {})
        elif "=" in line:
            key, _, value = line.partition("=")
            current.setdefault(key.strip().rstrip(">").strip(), []).append(value.strip())
    return out


def test_manager_conf_is_loopback_and_least_privilege() -> None:
    conf = sections(EXAMPLES / "manager.conf")
    assert conf["general"]["bindaddr"] == ["127.0.0.1"]
    assert conf["general"]["webenabled"] == ["no"]
    assert set(conf["general"]["channelvars"][0].split(",")) == {"FRONTDOOR_CALL", "FRONTDOOR_AGENT"}
    user = conf["frontdoor"]
    assert user["permit"] == ["127.0.0.1/255.255.255.255"] and user["deny"] == ["0.0.0.0/0.0.0.0"]
    for key in ("read", "write"):
        classes = set(user[key][0].split(","))
        assert not classes & {"all", "system", "command", "config", "user"}, key
    assert set(user["write"][0].split(",")) == {"call", "originate", "agi", "reporting"}


def test_extensions_conf_has_every_context_the_adapter_uses() -> None:
    conf = (EXAMPLES / "extensions.conf").read_text()
    for context in (legs.IN, legs.PARK, legs.AGENT_WAIT, legs.AGENTS, legs.OUT):
        assert f"[{context}]" in conf, context
    assert conf.count("AGI(agi:async)") == 2
    wait = conf.split(f"[{legs.AGENT_WAIT}]", 1)[1].split("\n[", 1)[0]
    assert f"Goto(s,{legs.AGENT_WAIT_LOOP})" in wait  # after a bridge the agent's phone waits again
