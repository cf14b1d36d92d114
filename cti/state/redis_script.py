"""The Lua side of the Redis state store: a Redis Functions library built from ``cti/state/lua``.

The library is loaded once (FUNCTION LOAD REPLACE) and every operation is one FCALL: defining the
helpers and tables happens at load, not on every call as it would with EVAL. First come the event
bus's publishing function (``PUBLISH_LUA``: counter INCR + XADD with trimming), so events are numbered
exactly as the bus numbers them, and constants generated from the Python domain module, so Lua and
the memory store refuse exactly the same transitions.

The library and its function are named after a hash of the code: processes running different
versions of Frontdoor against one Redis each call their own, instead of replacing each other's. A
library no process of its version uses any more can be dropped with FUNCTION DELETE.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from cti.bus.redis import PUBLISH_LUA
from cti.domain.states import (
    CONTACT_TRANSITIONS,
    ENGINE_TRANSITIONS,
    OFFER_TRANSITIONS,
    STATUS_TRANSITIONS,
    TERMINAL_CONTACT,
)

# Machine names exactly as the memory store passes them to ``advance``.
MACHINES: dict[str, Mapping[str, Mapping[Any, Any]]] = {
    "contact": CONTACT_TRANSITIONS,
    "agent": ENGINE_TRANSITIONS,
    "offer": OFFER_TRANSITIONS,
    "agent status": STATUS_TRANSITIONS,
}

OFFER_END_EVENT = {
    "reject": "offer.rejected",
    "time_out": "offer.timed_out",
    "cancel": "offer.cancelled",
    "rescind": "offer.rescinded",
}

# Concatenated in this order: later parts use the locals of earlier ones.
PARTS = ("common.lua", "routing.lua", "ops.lua", "timers.lua")


def lua_literal(value: object) -> str:
    """A Lua table constructor for nested str-keyed mappings of strings and booleans (cjson is not
    available while a library loads)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not value.isascii() or any(ch in value for ch in '"\\\n'):
            raise ValueError(f"not a plain Lua string: {value!r}")
        return f'"{value}"'
    if isinstance(value, Mapping):
        items = ", ".join(f"[{lua_literal(str(k))}] = {lua_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def _constants() -> str:
    transitions = {
        machine: {event: {str(a): str(b) for a, b in moves.items()} for event, moves in table.items()}
        for machine, table in MACHINES.items()
    }
    return (
        f"local TRANSITIONS = {lua_literal(transitions)}\n"
        f"local TERMINAL_CONTACT = {lua_literal({str(s): True for s in TERMINAL_CONTACT})}\n"
        f"local OFFER_END_EVENT = {lua_literal(OFFER_END_EVENT)}\n"
    )


def build_library() -> tuple[str, str]:
    """The library's code and the name of its one function (also the library's name)."""
    lua = resources.files(__package__ or "cti.state").joinpath("lua")
    body = PUBLISH_LUA + _constants() + "".join(lua.joinpath(p).read_text(encoding="utf-8") for p in PARTS)
    name = "fdstate_" + hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
    return f'#!lua name={name}\nlocal FUNCTION_NAME = "{name}"\n{body}', name


SOURCE, FUNCTION = build_library()
