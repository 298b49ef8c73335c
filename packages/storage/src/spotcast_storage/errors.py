"""Errors raised by spotcast's storage layer.

Every error says what was wrong and how to fix it, because the person reading it is
usually running a CLI command and cannot see the code that raised it.
"""

from __future__ import annotations


class SpotcastError(Exception):
    """Base class: a problem the user can act on (printed without a traceback by the CLIs)."""


class ValidationError(SpotcastError, ValueError):
    """Input was rejected before anything was written."""


class SchemaError(ValidationError):
    """A frame does not match the registered schema of a feature-group version."""


class NotFoundError(SpotcastError, LookupError):
    """A feature group, view, model or store does not exist."""


class UsageError(ValidationError):
    """A command-line argument or path cannot be used: a folder or a non-DuckDB file as the
    store, a store that does not exist for a read, an impossible date, a negative limit, an
    output folder that does not exist. The CLIs exit with code 2 for it, as for a usage error
    of the argument parser."""


class StoreNotFoundError(UsageError, NotFoundError):
    """A command that only reads was pointed at a store that does not exist."""


class StoreWriteError(SpotcastError):
    """The store could not be written (read-only folder, disk full): the message carries the
    first error DuckDB reported, not the rollback's."""


class StoreLockedError(SpotcastError):
    """Another process held the store file longer than the lock timeout."""


class ReadOnlyError(SpotcastError):
    """A write was attempted through a read-only connection."""


class BackendUnavailableError(SpotcastError):
    """A storage backend cannot be used on this installation (missing extra, missing login)."""


class UnsupportedError(SpotcastError, NotImplementedError):
    """The backend cannot do this operation; the message names the limitation."""


class NaiveTimestampWarning(UserWarning):
    """Timezone-naive timestamps were stored as UTC (as the Hopsworks client does); the message
    names the column and how to say what the times are."""
