"""The REST API (FastAPI). Thin resources: the work is done by the services in cti.calls, cti.router..."""
