"""A feature-group contract: the name, version, key, times and documented columns that a
producing stage writes and a consuming stage reads. Both sides import the same object.

A breaking change is a new version; a contract that says how its previous version's rows map
onto the new schema (:class:`Upgrade`) migrates a store by itself: the first
:meth:`Contract.get_or_create` of the new version copies the old version's rows, transformed, into
it in one commit (through the storage API, so on every backend), and readers of a store that was
not migrated yet (a read-only API) get the old rows transformed in memory
(:meth:`Contract.source`). The old version is left as it was: its history stays readable.

Upgrades chain: an :class:`Upgrade` may name the ``previous`` contract (the version it upgrades
from), whose own upgrade reaches further back, so a store that still holds only v1 rows reads
as v3 through v1 -> v2 -> v3, each step conformed to its version's contract.

A contract may carry a row check (``check``) for rules its column types cannot say (a value
from a fixed set, say): :meth:`Contract.conform` runs it, so a producer that conforms its
frame before writing is refused with a :class:`~spotcast_storage.errors.ValidationError`
naming the bad value, and nothing is written."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spotcast_storage.errors import NotFoundError, SchemaError
from spotcast_storage.query import Feature


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # bigint | double | boolean | string | timestamp
    description: str
    nullable: bool = True
    default: Any = None
    """A value :meth:`Contract.conform` fills in when a producer's frame leaves the column out
    (None: the column is required). For columns added by a new version whose old producers keep
    writing the one value the old version implied (forecasts v3's ``resolution_minutes``: 60)."""


@dataclass(frozen=True)
class Upgrade:
    """How rows of version ``from_version`` become rows of the contract's version: ``transform``
    takes a frame of the old version and returns one with the new version's columns."""

    from_version: int
    transform: Callable[[pd.DataFrame], pd.DataFrame]
    description: str = ""
    previous: Contract | None = None
    """The contract of ``from_version`` when it upgrades an older version in turn: readers and
    the migration then also find rows stored only in that older version (chained upgrades)."""
    with_store: Callable[[pd.DataFrame, Any], pd.DataFrame] | None = None
    """A second step for rows whose new form depends on other stored data: called with the
    transformed rows and the feature store, returns the rows to keep (forecasts v3 adds the
    quarter-hours that v2's readers derived from the stored 15-minute prices)."""


@dataclass(frozen=True)
class Contract:
    name: str
    version: int
    primary_key: tuple[str, ...]
    event_time: str
    columns: tuple[Column, ...]
    description: str
    known_at: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    upgrade: Upgrade | None = None
    check: Callable[[pd.DataFrame], None] | None = None
    """Row rules beyond the column types, run by :meth:`conform` on the conformed frame: raises
    :class:`~spotcast_storage.errors.ValidationError` naming the bad value and the allowed ones."""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def features(self) -> list[Feature]:
        return [Feature(c.name, c.type, c.name in self.primary_key, c.description) for c in self.columns]

    def get_or_create(self, fs: Any) -> Any:
        """The feature group of this contract in ``fs`` (registered with its declared schema).

        When the version has no data yet and the contract upgrades an older version that has
        rows, those rows are copied into it first (one commit). A copy that was interrupted left
        the new version without data, so the next call simply copies again."""
        fg = fs.get_or_create_feature_group(
            name=self.name, version=self.version, primary_key=list(self.primary_key),
            event_time=self.event_time, known_at=self.known_at, description=self.description,
            features=self.features(), **self.options,
        )
        if self.upgrade is not None and not fg.commit_details(limit=1):
            found = self._old_source(fs)
            if found is not None:
                old, to_rows = found
                rows = to_rows(old.read())
                if len(rows):
                    fg.insert(rows)
        return fg

    def get(self, fs: Any) -> Any:
        return fs.get_feature_group(self.name, self.version)

    def _old_source(self, fs: Any) -> tuple[Any, Callable[[pd.DataFrame], pd.DataFrame]] | None:
        """The newest older version with rows, walking the upgrade chain back, and the function
        that turns its rows into rows of this version (None: no older version has rows)."""
        steps: list[Contract] = []
        c: Contract | None = self
        while c is not None and c.upgrade is not None:
            steps.append(c)
            try:
                old = fs.get_feature_group(self.name, c.upgrade.from_version)
            except NotFoundError:
                old = None
            if old is not None and old.commit_details(limit=1):
                return old, functools.partial(_apply, tuple(reversed(steps)), fs=fs)
            c = c.upgrade.previous
        return None

    def source(self, fs: Any) -> tuple[Any, Callable[[pd.DataFrame], pd.DataFrame]] | None:
        """Where readers find this contract's rows: ``(group, to_rows)`` with ``to_rows`` turning
        what the group's queries return into rows of this version -- the identity for this
        version's group, the chained upgrades for an older version's when the store was not
        migrated yet (e.g. a read-only reader). None when neither exists."""
        try:
            return self.get(fs), lambda df: df
        except NotFoundError:
            return self._old_source(fs)

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Columns in contract order; a missing or unexpected column is an error naming it (a
        column with a ``default`` is filled with it instead); then the contract's ``check``."""
        fill = {c.name: c.default for c in self.columns if c.default is not None and c.name not in df.columns}
        if fill:
            df = df.assign(**fill)
        missing = [c for c in self.column_names if c not in df.columns]
        extra = [c for c in df.columns if c not in self.column_names]
        if missing or extra:
            raise SchemaError(
                f"{self.name} v{self.version}: frame is missing {missing} / has unexpected {extra}; "
                f"the contract's columns are {self.column_names}"
            )
        required = [c.name for c in self.columns if not c.nullable and df[c.name].isna().any()]
        if required:
            raise SchemaError(f"{self.name} v{self.version}: column(s) {required} must not contain nulls")
        out = df[self.column_names]
        if self.check is not None:
            self.check(out)
        return out

    def describe(self) -> str:
        lines = [f"{self.name} v{self.version}: {self.description}",
                 f"  key {list(self.primary_key)}, event time {self.event_time}"
                 + (f", known at {self.known_at}" if self.known_at else "")]
        lines += [f"  {c.name:<24} {c.type:<10} {c.description}" for c in self.columns]
        return "\n".join(lines)


def _apply(chain: tuple[Contract, ...], rows: pd.DataFrame, fs: Any = None) -> pd.DataFrame:
    """``rows`` of the version ``chain[0]`` upgrades from, through each contract's upgrade in
    turn (oldest first), conformed at every step (with the store's step where one is declared)."""
    for c in chain:
        if c.upgrade is None:
            raise SchemaError(f"{c.name} v{c.version} declares no upgrade from an older version")
        rows = c.conform(c.upgrade.transform(rows.copy()))
        if c.upgrade.with_store is not None and fs is not None:
            rows = c.conform(c.upgrade.with_store(rows, fs))
    return rows
