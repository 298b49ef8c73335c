"""A feature-group contract: the name, version, key, times and documented columns that a
producing stage writes and a consuming stage reads. Both sides import the same object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spotcast_storage.errors import SchemaError
from spotcast_storage.query import Feature


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # bigint | double | boolean | string | timestamp
    description: str
    nullable: bool = True


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

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def features(self) -> list[Feature]:
        return [Feature(c.name, c.type, c.name in self.primary_key, c.description) for c in self.columns]

    def get_or_create(self, fs: Any) -> Any:
        """The feature group of this contract in ``fs`` (registered with its declared schema)."""
        return fs.get_or_create_feature_group(
            name=self.name, version=self.version, primary_key=list(self.primary_key),
            event_time=self.event_time, known_at=self.known_at, description=self.description,
            features=self.features(), **self.options,
        )

    def get(self, fs: Any) -> Any:
        return fs.get_feature_group(self.name, self.version)

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Columns in contract order; a missing or unexpected column is an error naming it."""
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
        return df[self.column_names]

    def describe(self) -> str:
        lines = [f"{self.name} v{self.version}: {self.description}",
                 f"  key {list(self.primary_key)}, event time {self.event_time}"
                 + (f", known at {self.known_at}" if self.known_at else "")]
        lines += [f"  {c.name:<24} {c.type:<10} {c.description}" for c in self.columns]
        return "\n".join(lines)
