"""What a feature transformation is, and how the registered ones become rows.

A transformation never reads the store and never sees a value that was unknown at an
origin: it receives an :class:`OriginBatch` whose input frames were already cut to what each
origin knew (see :mod:`spotcast_features.inputs`), and returns columns for the batch's target
rows. That puts point-in-time correctness in one place instead of in every plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from spotcast_storage.contracts.base import Column, Contract
from spotcast_storage.contracts.features import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_ORIGIN_HOUR,
    PRICE_FEATURES,
)
from spotcast_storage.errors import SchemaError, ValidationError

KEY_COLUMNS = ("zone", "origin", "ts")


@dataclass(frozen=True)
class Settings:
    """How origins and targets are laid out; fixed per feature-group version (stored in the
    group's options) because rows built with different settings do not mix."""

    origin_hour: int = DEFAULT_ORIGIN_HOUR
    horizon_days: int = DEFAULT_HORIZON_DAYS

    def __post_init__(self) -> None:
        if isinstance(self.origin_hour, bool) or not isinstance(self.origin_hour, int) \
                or not 0 <= self.origin_hour <= 23:
            raise ValidationError(f"origin hour must be a whole local hour 0-23, got {self.origin_hour!r}")
        if isinstance(self.horizon_days, bool) or not isinstance(self.horizon_days, int) \
                or not 1 <= self.horizon_days <= 31:
            raise ValidationError(f"horizon must be 1-31 local days, got {self.horizon_days!r}")

    def as_options(self) -> dict[str, int]:
        return {"origin_hour": self.origin_hour, "horizon_days": self.horizon_days}


@dataclass(frozen=True)
class OriginBatch:
    """The inputs of a set of origins of one zone, each already restricted to what its origin knew.

    Every frame has an ``origin`` column; a row of it is known at that origin. Timestamps are
    UTC; ``local_date`` (naive midnight) and ``local_hour`` are in the zone's time zone.

    - ``targets``: the output rows, one per (origin, ts), with ``first_target`` (the first hour
      whose price was unknown at the origin), ``local_date`` and ``local_hour``. RangeIndex;
      a transformation returns a frame with the same index.
    - ``prices``: hourly mean prices with ``known_at <= origin`` and ts in the origin's price
      window (35 local days before the origin's day up to the end of the next day).
    - ``forecasts``: per target (origin, ts), the newest weather forecast with
      ``issued_at <= origin`` (absent where none exists).
    - ``observations``: observed weather with ``ts < origin`` in the 7 days before the origin.
    - ``exogenous``: per target (origin, ts) and series, the newest value with ``issued_at <= origin``.
    """

    zone: str
    timezone: str
    country: str
    settings: Settings
    targets: pd.DataFrame
    prices: pd.DataFrame
    forecasts: pd.DataFrame
    observations: pd.DataFrame
    exogenous: pd.DataFrame

    def frame(self, **columns: object) -> pd.DataFrame:
        """An output frame aligned with ``targets`` (convenience for transformations)."""
        return pd.DataFrame(columns, index=self.targets.index)


@dataclass(frozen=True)
class Transformation:
    """A named group of output columns and the pure function computing them from a batch."""

    name: str
    columns: tuple[Column, ...]
    compute: Callable[[OriginBatch], pd.DataFrame]
    description: str = ""
    order: int = 100
    plugin: str | None = field(default=None, compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def contract_columns(*names: str) -> tuple[Column, ...]:
    """Columns of the price_features contract by name, so built-ins document them only there."""
    by_name = {c.name: c for c in PRICE_FEATURES.columns}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SchemaError(f"price_features v{PRICE_FEATURES.version} has no column(s) {missing}")
    return tuple(by_name[n] for n in names)


def collect_transformations() -> list[Transformation]:
    """Every registered transformation (built-ins and third-party plugins), checked and ordered."""
    from spotcast_features.plugin import plugin_manager

    pm = plugin_manager()
    found: list[Transformation] = []

    def register(t: Transformation) -> None:
        if not isinstance(t, Transformation):
            raise ValidationError(
                f"register_features: register() takes a spotcast_features.transform.Transformation, "
                f"got {type(t).__name__}")
        found.append(t)

    for impl in pm.hook.register_features.get_hookimpls():
        before = len(found)
        impl.function(register=register)
        for i in range(before, len(found)):
            found[i] = replace(found[i], plugin=found[i].plugin or impl.plugin_name)
    return check_transformations(found)


def check_transformations(transformations: list[Transformation]) -> list[Transformation]:
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for t in transformations:
        if t.name in names:
            raise ValidationError(f"two feature transformations are named {t.name!r} "
                                  f"(plugins {names[t.name]} and {t.plugin}); rename one")
        names[t.name] = t.plugin or "?"
        if not t.columns:
            raise ValidationError(f"feature transformation {t.name!r} declares no columns")
        for c in t.columns:
            if c.name in KEY_COLUMNS:
                raise ValidationError(f"feature transformation {t.name!r} may not produce key column {c.name!r}")
            if c.name in owners:
                raise ValidationError(f"column {c.name!r} is produced by both {owners[c.name]!r} and "
                                      f"{t.name!r}; each column needs one owner")
            owners[c.name] = t.name
    return sorted(transformations, key=lambda t: (t.order, t.name))


def output_contract(transformations: list[Transformation], version: int = PRICE_FEATURES.version,
                    settings: Settings | None = None) -> Contract:
    """The price_features contract the registered transformations produce.

    Version 1 is the documented :data:`PRICE_FEATURES`; transformations that add or drop
    columns must write another version, because a version's columns are fixed.
    """
    settings = settings or Settings()
    key = [c for c in PRICE_FEATURES.columns if c.name in KEY_COLUMNS]
    produced = [c for t in transformations for c in t.columns]
    if version == PRICE_FEATURES.version:
        want = {c.name for c in PRICE_FEATURES.columns} - set(KEY_COLUMNS)
        have = {c.name for c in produced}
        if want != have:
            raise SchemaError(
                f"the registered feature transformations produce columns that differ from "
                f"price_features v{version}: extra {sorted(have - want)}, missing {sorted(want - have)}. "
                f"A version's columns are fixed: build another version, e.g. "
                f"`spotcast-features rebuild --version {version + 1}`"
            )
        return replace(PRICE_FEATURES, options=settings.as_options())
    return replace(PRICE_FEATURES, version=version, columns=(*key, *produced), options=settings.as_options(),
                   description=PRICE_FEATURES.description + f" Version {version}: columns of the "
                   f"transformations {', '.join(t.name for t in transformations)}.")


def compute_rows(batch: OriginBatch, transformations: list[Transformation], contract: Contract) -> pd.DataFrame:
    """Run every transformation on the batch and assemble rows in the contract's column order."""
    t = batch.targets
    parts = [pd.DataFrame({"zone": batch.zone, "origin": t["origin"], "ts": t["ts"]}, index=t.index)]
    for tr in transformations:
        out = tr.compute(batch)
        if not isinstance(out, pd.DataFrame):
            raise ValidationError(f"feature transformation {tr.name!r} returned {type(out).__name__}, "
                                  "not a DataFrame")
        if not out.index.equals(t.index):
            raise ValidationError(
                f"feature transformation {tr.name!r} returned {len(out)} rows whose index differs from "
                f"the batch's {len(t)} target rows; return a frame indexed like batch.targets")
        cols = list(out.columns)
        if sorted(cols) != sorted(tr.column_names):
            raise SchemaError(f"feature transformation {tr.name!r} returned columns {cols}, "
                              f"but declared {tr.column_names}")
        parts.append(out[tr.column_names])
    rows = pd.concat(parts, axis=1)
    return contract.conform(rows)
