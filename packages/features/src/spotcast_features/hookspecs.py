"""Hook specifications of the features stage (added to spotcast's one plugin manager by
:mod:`spotcast_features.plugin`, the way pytest's ``pytest_addhooks`` works)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotcast_storage.hookspecs import hookspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from spotcast_features.transform import Transformation


@hookspec
def register_features(register: Callable[[Transformation], None]) -> None:
    """Register feature transformations: ``register(Transformation(name, columns, compute))``;
    ``compute(batch)`` gets an :class:`~spotcast_features.transform.OriginBatch` holding only
    inputs known at each origin and returns one row per target row with the declared columns."""
