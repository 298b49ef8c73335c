"""spotcast-storage: one Hopsworks-shaped API over an embedded DuckDB store or Hopsworks.

    from spotcast_storage import get_storage
    project = get_storage()                  # local unless HOPSWORKS_API_KEY is set
    fs = project.get_feature_store()
    fg = fs.get_or_create_feature_group("prices", version=1, primary_key=["zone", "ts"], event_time="ts")
    fg.insert(df)
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

from spotcast_storage.errors import (
    BackendUnavailableError,
    NotFoundError,
    ReadOnlyError,
    SchemaError,
    SpotcastError,
    StoreLockedError,
    StoreNotFoundError,
    StoreWriteError,
    UnsupportedError,
    UsageError,
    ValidationError,
)

if TYPE_CHECKING:
    from spotcast_storage.base import Commit, FeatureGroupBase, FeatureViewBase
    from spotcast_storage.events import Event
    from spotcast_storage.query import Feature, Filter, Query

# Names whose modules import pandas: loaded on first use (PEP 562), so that importing the
# package (every CLI does, for `--help`) stays cheap. `from spotcast_storage import Query` works.
_LAZY = {
    "Commit": "spotcast_storage.base", "FeatureGroupBase": "spotcast_storage.base",
    "FeatureViewBase": "spotcast_storage.base", "Event": "spotcast_storage.events",
    "Feature": "spotcast_storage.query", "Filter": "spotcast_storage.query", "Query": "spotcast_storage.query",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # package metadata on first use: importlib.metadata is slow to import
        from spotcast_storage.versions import package_version

        return package_version("spotcast-storage")
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def backends() -> dict[str, Any]:
    """Registered backend factories by mode name."""
    from spotcast_storage.plugins import get_plugin_manager

    found: dict[str, Any] = {}
    get_plugin_manager().hook.register_backends(register=lambda mode, factory: found.setdefault(mode, factory))
    return found


def get_storage(mode: str | None = None, path: str | os.PathLike[str] | None = None, **options: Any) -> Any:
    """Open the store: ``mode`` is a registered backend's mode (built-in: ``local``,
    ``hopsworks``; ``production`` is a synonym);
    without it, hopsworks when HOPSWORKS_API_KEY is set, else local. ``path`` is the DuckDB
    file of the local store (default ``./.spotcast/store.duckdb`` or ``SPOTCAST_STORE``)."""
    from spotcast_storage import config

    m = config.resolve_mode(mode)
    factories = backends()
    if m not in factories:
        raise BackendUnavailableError(f"no storage backend registered for mode {m!r}; have {sorted(factories)}")
    project = factories[m](path=path, **options)
    config.announce(project)
    return project


__all__ = [
    "BackendUnavailableError", "Commit", "Event", "Feature", "FeatureGroupBase", "FeatureViewBase",
    "Filter", "NotFoundError", "Query", "ReadOnlyError", "SchemaError", "SpotcastError",
    "StoreLockedError", "StoreNotFoundError", "StoreWriteError", "UnsupportedError", "UsageError",
    "ValidationError", "get_storage",
]
