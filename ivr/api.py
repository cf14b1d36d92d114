"""Installs the IVR in the app: the engine for every telephony adapter at ``services.extras["ivr"]``.

Flows come from the centre folder's ``flows/`` subfolder when it has one, else the shipped
``ivr/flows/``. They are checked against the centre at start (every number's flow exists, every queue
and calendar a flow names is configured): a broken flow stops the server with a message naming the
file and the node.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from ivr.engine import IvrEngine
from ivr.flows import FLOWS_DIR, load_flows

if TYPE_CHECKING:
    from cti.wiring import Services


def flows_dir(centre_folder: Path) -> Path:
    own = Path(centre_folder) / "flows"
    return own if own.is_dir() else FLOWS_DIR


def engine_for(services: Services) -> IvrEngine:
    flows = load_flows(flows_dir(services.centre.folder), services.centre)
    return IvrEngine(flows, services.centre, services.clock, services.records)


def install(app: FastAPI) -> None:
    """Add the IVR's start/stop hooks to the app (the engine for the configured telephony)."""

    async def started(services: Services) -> None:
        engine = engine_for(services)
        services.extras["ivr"] = engine
        attach = getattr(services.telephony, "attach_ivr", None)
        if attach is not None:
            attach(engine)  # the simulator runs its callers through the IVR too

    async def stopping(services: Services) -> None:
        services.extras.pop("ivr", None)
        attach = getattr(services.telephony, "attach_ivr", None)
        if attach is not None:
            attach(None)

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
