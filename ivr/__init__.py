"""The IVR: flows in YAML (``ivr/flows/``), a per-call engine driven by telephony-neutral events.

The contract between the engine and the telephony adapters is ``ivr.actions``.
"""
