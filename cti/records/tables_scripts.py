"""Tables of the scripts package (on the records' one ``metadata``; migration ``0002_scripts``)."""

from __future__ import annotations

from cti.records.tables import metadata

__all__ = ["metadata"]
