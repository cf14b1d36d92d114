"""Alembic migrations of the records database; run them with ``cti.records.migrate(url)``."""
