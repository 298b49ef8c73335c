"""spotcast's own records on a Hopsworks cluster, kept in three feature groups.

Hopsworks has no place for what spotcast keeps beside the data (the event log, consumer
cursors, a feature group's known-at column, model lineage, the spotcast query behind a
feature view), so they live in feature groups of their own, readable in the Hopsworks UI:

- ``spotcast_events`` v1: one row per committed write (key ``event_id``).
- ``spotcast_cursors`` v1: one row per consumer (key ``consumer``), the last event it acknowledged.
- ``spotcast_registry`` v1: one row per (kind, name, version) with a JSON ``info`` column.

Writes wait for materialisation, so a reader sees an event as soon as its append returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spotcast_storage.hopsworks.secrets import guard
from spotcast_storage.query import Feature

WRITE_OPTIONS = {"wait_for_job": True}


@dataclass(frozen=True)
class Spec:
    name: str
    version: int
    primary_key: tuple[str, ...]
    event_time: str | None
    features: tuple[Feature, ...]
    description: str


def _f(name: str, type_: str, pk: tuple[str, ...], description: str) -> Feature:
    return Feature(name, type_, name in pk, description)


_EV_PK = ("event_id",)
EVENTS = Spec("spotcast_events", 1, _EV_PK, "created_at", (
    _f("event_id", "bigint", _EV_PK, "increasing id (microseconds since 1970 at append)"),
    _f("kind", "string", _EV_PK, "commit | model"),
    _f("name", "string", _EV_PK, "feature group or model name"),
    _f("version", "bigint", _EV_PK, "feature group or model version"),
    _f("commit_id", "bigint", _EV_PK, "Hopsworks commit id (commits only)"),
    _f("created_at", "timestamp", _EV_PK, "when the event was appended, UTC"),
    _f("payload", "string", _EV_PK, "JSON: row counts, changed, event-time range, keys touched"),
), "spotcast event log: one row per committed write (written by spotcast-storage)")

_CU_PK = ("consumer",)
CURSORS = Spec("spotcast_cursors", 1, _CU_PK, None, (
    _f("consumer", "string", _CU_PK, "consumer name"),
    _f("event_id", "bigint", _CU_PK, "last acknowledged event id"),
    _f("updated_at", "timestamp", _CU_PK, "when it was acknowledged, UTC"),
), "spotcast consumer cursors (written by spotcast-storage)")

_RE_PK = ("kind", "name", "version")
REGISTRY = Spec("spotcast_registry", 1, _RE_PK, "created_at", (
    _f("kind", "string", _RE_PK, "feature_group | feature_view | model"),
    _f("name", "string", _RE_PK, "name"),
    _f("version", "bigint", _RE_PK, "version"),
    _f("created_at", "timestamp", _RE_PK, "when it was registered, UTC"),
    _f("info", "string", _RE_PK, "JSON: known_at and options, view query and labels, model lineage"),
), "spotcast metadata that Hopsworks has no field for (written by spotcast-storage)")

RESERVED = frozenset({EVENTS.name, CURSORS.name, REGISTRY.name})


def client_features(features: Any) -> list[Any]:
    """spotcast features as the client's ``hsfs.feature.Feature`` objects."""
    from hsfs.feature import Feature as ClientFeature

    return [ClientFeature(name=f.name, type=f.type, description=f.description or None, primary=f.primary)
            for f in features]


def empty(spec: Spec) -> pd.DataFrame:
    return pd.DataFrame({f.name: pd.Series(dtype=_DTYPES[f.type]) for f in spec.features})


_DTYPES = {"bigint": "int64", "string": "object", "timestamp": "datetime64[us, UTC]", "double": "float64"}


class Bookkeeping:
    """Reads and writes the three feature groups through the client (created on first write)."""

    def __init__(self, client_fs: Any) -> None:
        self._fs = client_fs
        self._fgs: dict[str, Any] = {}

    def group(self, spec: Spec) -> Any:
        if spec.name not in self._fgs:
            with guard(f"open the bookkeeping feature group {spec.name}"):
                self._fgs[spec.name] = self._fs.get_or_create_feature_group(
                    name=spec.name, version=spec.version, description=spec.description,
                    online_enabled=False, primary_key=list(spec.primary_key), event_time=spec.event_time,
                    features=client_features(spec.features),
                )
        return self._fgs[spec.name]

    def write(self, spec: Spec, df: pd.DataFrame) -> None:
        fg = self.group(spec)
        with guard(f"write to {spec.name}"):
            fg.insert(df[[f.name for f in spec.features]], write_options=dict(WRITE_OPTIONS))

    def read(self, spec: Spec, where: Callable[[Any], Any] | None = None) -> pd.DataFrame:
        """Rows of ``spec`` (``where(client_fg)`` builds the client filter); empty before the
        first write, when the group does not exist on the cluster yet."""
        fg = self.group(spec)
        if getattr(fg, "id", None) is None:
            return empty(spec)
        with guard(f"read {spec.name}"):
            q = fg.select_all()
            if where is not None:
                q = q.filter(where(fg))
            df = q.read(dataframe_type="pandas")
        if df is None or not len(df):
            return empty(spec)
        out = df[[f.name for f in spec.features]].copy()
        for f in spec.features:
            if f.type == "timestamp":
                out[f.name] = pd.to_datetime(out[f.name], utc=True).astype("datetime64[us, UTC]")
        return out.reset_index(drop=True)

    # -- registry ------------------------------------------------------------------------
    def registry_rows(self, kind: str, name: str | None = None) -> list[tuple[str, int, dict[str, Any]]]:
        def where(fg: Any) -> Any:
            cond = fg.get_feature("kind") == kind
            return cond if name is None else cond & (fg.get_feature("name") == name)

        df = self.read(REGISTRY, where)
        df = df[(df["kind"] == kind) & ((df["name"] == name) if name is not None else True)]
        df = df.sort_values(["name", "version"], kind="stable")
        return [(str(n), int(v), json.loads(i) if i else {}) for n, v, i in zip(df["name"], df["version"], df["info"], strict=True)]

    def register(self, kind: str, name: str, version: int, info: dict[str, Any]) -> None:
        row = pd.DataFrame({"kind": [kind], "name": [name], "version": [int(version)],
                            "created_at": [pd.Timestamp.now(tz="UTC").floor("us")],
                            "info": [json.dumps(info, default=str)]})
        self.write(REGISTRY, row)
