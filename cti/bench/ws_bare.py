"""The bare ceiling of the websocket bench: uvicorn and Starlette websockets, no product code.

Agents connect to ``/ws/agent``, supervisors to ``/ws/supervisor``; the load process then sends
``{"rate": R, "count": C}`` on ``/ws/ctl`` and this app pushes C offers of about 1.5 KB at R a second,
each to the next agent in turn, each followed by a small message broadcast to every supervisor (the
shape of the product's screen-pop and its supervisor fan-out), and answers ``{"done": C}``. Messages
carry the product's envelope with ``at`` in epoch milliseconds (a float: exact).
"""

from __future__ import annotations

import asyncio
import json
import time

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

POP_PAD = "x" * 1400  # about the size of a screen-pop

_agents: list[WebSocket] = []
_agent_seq: dict[int, int] = {}
_supervisors: list[WebSocket] = []
_sup_seq = [0]


async def _hold(ws: WebSocket, members: list[WebSocket]) -> None:
    await ws.accept()
    members.append(ws)
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    finally:
        members.remove(ws)


async def agent(ws: WebSocket) -> None:
    await _hold(ws, _agents)


async def supervisor(ws: WebSocket) -> None:
    await _hold(ws, _supervisors)


async def _push(rate: float, count: int, start: int) -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(count):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        index = (start + i) % len(_agents)
        seq = _agent_seq[index] = _agent_seq.get(index, 0) + 1
        offer = {"stream": f"agent:{index}", "seq": seq, "type": "offer.created", "at": time.time() * 1000}
        await _agents[index].send_text(
            json.dumps({**offer, "data": {"contact": f"c{start + i}", "pad": POP_PAD}})
        )
        _sup_seq[0] += 1
        state = {"stream": "supervisor", "seq": _sup_seq[0], "type": "agent.state", "at": time.time() * 1000}
        text = json.dumps({**state, "data": {"agent": index, "status": "available", "engine": "offered"}})
        for member in list(_supervisors):
            await member.send_text(text)


async def ctl(ws: WebSocket) -> None:
    await ws.accept()
    sent = 0
    try:
        while True:
            command = await ws.receive_json()
            await _push(float(command["rate"]), int(command["count"]), sent)
            sent += int(command["count"])
            await ws.send_json({"done": int(command["count"])})
    except WebSocketDisconnect:
        return


app = Starlette(
    routes=[
        WebSocketRoute("/ws/agent", agent),
        WebSocketRoute("/ws/supervisor", supervisor),
        WebSocketRoute("/ws/ctl", ctl),
    ]
)
