"""``Records``: the one object the rest of Frontdoor uses to read and write caller records."""

from __future__ import annotations

from cti.records.audit import AuditRecords
from cti.records.contacts import ContactRecords
from cti.records.people import PeopleRecords
from cti.records.service_requests import ServiceRequestRecords


class Records(PeopleRecords, ContactRecords, ServiceRequestRecords, AuditRecords):
    """People, referrers, contacts, service requests, allocations and the access audit.

    Built on an ``AsyncEngine`` the caller owns (``create_engine`` then ``dispose``); every method
    runs in its own short transaction. All times in and out are timezone-aware UTC.

    >>> records = Records(create_engine(url))            # doctest: +SKIP
    >>> match = await records.lookup_by_phone("07700 900123")  # doctest: +SKIP
    """
