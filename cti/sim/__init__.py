"""The simulator: seeded callers, bot agents and the living centre of the demo.

The telephony adapter itself is ``cti.telephony.sim.SimTelephony``. Nothing is imported here, so
that adapter can use ``cti.sim.legs`` without pulling in the rest.
"""
