"""Model types: what a ``register_models`` plugin provides, and how the stage finds them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spotcast_storage.errors import NotFoundError
from spotcast_storage.modelformat import ModelPredictor

DEFAULT_MODEL = "xgboost"


@dataclass(frozen=True)
class FitRequest:
    """Training rows already restricted to what was known at the origin ``until``.

    ``features`` are the candidate input columns (a model may use fewer); ``time_col`` is the
    forecast origin of each row; ``options`` carries model-specific settings from the CLI."""

    frame: pd.DataFrame
    features: Sequence[str]
    target: str
    time_col: str = "origin"
    until: pd.Timestamp | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelType:
    name: str
    description: str
    fit: Callable[[FitRequest], ModelPredictor]
    baseline: bool = False
    """True for the naive references every backtest reports next to the model."""
    check: Callable[[dict[str, Any]], None] | None = None
    """Optional: raises a clear error for ``options`` this model cannot fit (bad settings, a
    missing optional library), so `fit`/`backtest` fail before reading or writing anything."""
    recipe_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Optional: the ``options`` as the model's recipe records them (:mod:`spotcast_train.gate`).
    A model type whose defaults can change between releases records the settings its options
    resolve to, so the promotion gate after an upgrade refits the serving model as it was and
    compares the new default against it instead of taking both for the same recipe."""
    recorded_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Optional: the decoded options of a recipe recorded by an earlier release, as that release
    meant them (e.g. ``{}`` when it recorded options unresolved and its default was different)."""
    recalibrate: Callable[[ModelPredictor, FitRequest], tuple[ModelPredictor, list[str]] | None] | None = None
    """Optional: refit a fitted model's cheap members on newer rows (``FitRequest.options``: the
    options its recipe records) and keep the rest; returns the model and the names of the parts
    refitted, or None when there is nothing to refit. `spotcast run` calls it on the serving model
    whenever new labelled origins arrive between the retrains of the whole model
    (:func:`spotcast_train.service.recalibrate`)."""


def model_types() -> dict[str, ModelType]:
    """Every registered model type by name (built-ins and installed plugins)."""
    from spotcast_train.plugin import plugin_manager

    found: dict[str, ModelType] = {}
    plugin_manager().hook.register_models(register=lambda m: found.setdefault(m.name, m))
    return found


def get_model_type(name: str) -> ModelType:
    types = model_types()
    if name not in types:
        raise NotFoundError(f"unknown model {name!r}; registered models: {', '.join(sorted(types))}")
    return types[name]


def baselines() -> list[ModelType]:
    return [m for m in model_types().values() if m.baseline]
