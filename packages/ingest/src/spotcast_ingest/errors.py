"""Errors of the ingest stage. All are :class:`SpotcastError`, so the CLIs print them without
a traceback; each names what failed (source, zone, day, URL) and what to do about it."""

from __future__ import annotations

from spotcast_storage.errors import SpotcastError, ValidationError


class SourceError(SpotcastError):
    """A source could not deliver: HTTP failure after retries, unparsable answer, missing data."""


class NotPublishedError(SourceError):
    """The source has no data for a day yet (HTTP 404 for tomorrow's prices before ~13:00 CET)."""


class ParseError(SourceError):
    """An answer did not have the shape the source's API documents."""


__all__ = ["NotPublishedError", "ParseError", "SourceError", "ValidationError"]
