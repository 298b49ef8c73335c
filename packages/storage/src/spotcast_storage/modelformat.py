"""The model artifact's envelope: what the train stage (writes models) and serve (loads them)
must share, whatever library a model is built on.

An artifact is a folder with ``spotcast-model.json`` (``format``, ``format_version``, ``kind``, the
input ``features``, the ``quantiles`` and their ``outputs`` columns, ``lineage``,
``training_window``, and whatever else the kind needs) and the kind's own files beside it.
:func:`load_predictor` reads the ``kind`` and hands the folder to the loader that a plugin
registered for it through ``register_model_formats``; spotcast's own kinds (``xgboost``,
``linear``, ``naive``: :mod:`spotcast_storage.boosted`) register through the same hook
(:mod:`spotcast_storage.model_kinds`). What train registers and serve loads follows
:class:`ModelPredictor`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from spotcast_storage.errors import NotFoundError, ValidationError

FORMAT = "spotcast-model"
METADATA_FILE = "spotcast-model.json"


def quantile_column(q: float) -> str:
    """``0.1 -> "p10"``: the output column of a quantile."""
    pct = q * 100
    return f"p{round(pct)}" if math.isclose(pct, round(pct)) else f"p{pct:g}".replace(".", "_")

def _json_default(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")

@runtime_checkable
class ModelPredictor(Protocol):
    """What train registers and serve loads, whatever library is inside: the artifact's input
    columns and quantiles, its lineage, p10/p50/p90 (one column per quantile) for each feature
    row, a copy with the stage's metadata, and a folder with ``spotcast-model.json`` naming its
    ``kind`` (see :func:`write_envelope`) that the kind's registered loader reads back."""

    @property
    def features(self) -> list[str]: ...

    @property
    def quantiles(self) -> list[float]: ...

    @property
    def lineage(self) -> dict[str, Any]: ...

    def predict(self, X: pd.DataFrame) -> pd.DataFrame: ...

    def with_info(self, *, lineage: dict[str, Any], training_window: dict[str, Any]) -> ModelPredictor: ...

    def save(self, path: str | os.PathLike[str]) -> Path: ...


def write_envelope(folder: str | os.PathLike[str], *, kind: str, features: Sequence[str],
                   quantiles: Sequence[float], lineage: Mapping[str, Any] | None = None,
                   training_window: Mapping[str, Any] | None = None, **fields: Any) -> Path:
    """The ``spotcast-model.json`` of a plugin's artifact: the envelope every kind shares (format,
    kind, input features, quantiles and their output columns, lineage, training window) plus the
    kind's own JSON ``fields``. The plugin writes its library's files beside it."""
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0 < q < 1 for q in qs) or qs != sorted(set(qs)) or 0.5 not in qs:
        raise ValidationError(f"quantiles must be increasing numbers in (0, 1) including 0.5, got {qs}")
    if not kind or not isinstance(kind, str):
        raise ValidationError("an artifact needs a kind (the name its format plugin registers)")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "format_version": 1, "kind": kind, "features": list(features), "quantiles": qs,
            "outputs": [quantile_column(q) for q in qs], "lineage": dict(lineage or {}),
            "training_window": dict(training_window or {}), **fields}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    return out


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``spotcast-model.json`` of an artifact folder as a dict (format checked, nothing loaded)."""
    folder = Path(path)
    meta = folder / METADATA_FILE
    if not meta.is_file():
        raise NotFoundError(
            f"{folder} is not a spotcast model artifact: {METADATA_FILE} is missing "
            "(register models with spotcast-train fit)")
    try:
        data = json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{meta} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValidationError(f"not a spotcast model: format is {found!r}, expected {FORMAT!r}")
    return data


def model_formats() -> dict[str, Any]:
    """Registered artifact loaders by kind (spotcast's own and installed plugins')."""
    from spotcast_storage.plugins import get_plugin_manager

    found: dict[str, Any] = {}
    get_plugin_manager().hook.register_model_formats(register=lambda kind, load: found.setdefault(kind, load))
    return found


def load_predictor(path: str | os.PathLike[str]) -> ModelPredictor:
    """Load an artifact folder with the loader registered for its kind."""
    folder = Path(path)
    kind = read_metadata(folder).get("kind")
    loaders = model_formats()
    if kind not in loaders:
        raise ValidationError(
            f"model artifact {folder} is of kind {kind!r}, which no installed plugin reads (known kinds: "
            f"{', '.join(sorted(loaders))}); install the plugin that registers it, or refit the zone's "
            "model with `spotcast-train fit --zone ZONE`")
    return loaders[kind](folder)



__all__ = [
    "FORMAT",
    "METADATA_FILE",
    "ModelPredictor",
    "load_predictor",
    "model_formats",
    "quantile_column",
    "read_metadata",
    "write_envelope",
]
