"""Tables of the knowledge package (on the records' one ``metadata``; migration ``0002_knowledge``)."""

from __future__ import annotations

from cti.records.tables import metadata

__all__ = ["metadata"]
