"""Serializer fields every API serializer should use for date-times, and the offset rule they share.

- Input: ISO 8601 with an offset within ±15:59 (the range PostgreSQL's ``timestamptz`` accepts;
  ``+23:00`` parses in Python and then fails in the database). Naive values are read in the site's
  time zone, as DRF does.
- Output: always UTC, with ``Z`` (``2026-03-01T09:30:00Z``), whatever the site's ``TIME_ZONE``.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_OFFSET = datetime.timedelta(hours=15, minutes=59)


def offset_is_valid(value: datetime.datetime) -> bool:
    """True for a naive date-time or one whose UTC offset PostgreSQL can store (±15:59 at most)."""
    offset = value.utcoffset()
    return offset is None or abs(offset) <= MAX_OFFSET


OFFSET_MESSAGE = _("The UTC offset must be between -15:59 and +15:59.")


class DateTimeField(serializers.DateTimeField):
    default_error_messages = {"invalid_offset": OFFSET_MESSAGE}

    def to_internal_value(self, value):
        if isinstance(value, str):
            # The offset is checked on the value as sent, before DRF converts it to the site's zone.
            try:
                raw = datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                raw = None  # not ISO 8601: DRF's own parsing reports it
            if raw is not None and not offset_is_valid(raw):
                self.fail("invalid_offset")
        return super().to_internal_value(value)

    def to_representation(self, value):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
            return value.isoformat().replace("+00:00", "Z")
        return super().to_representation(value)
