"""A third-party model plugin built on another library (scikit-learn's ``Ridge``), for tests.

It adds a model type (``register_models``: train can fit it) and an artifact kind
(``register_model_formats``: serve can load it), with no edit to spotcast-storage. The artifact
is the shared envelope (``write_envelope``) plus the regression's coefficients and the column
medians that fill missing inputs, as JSON: nothing pickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.modelformat import quantile_column, read_metadata, write_envelope

KIND = "sklearn-ridge"
MODEL = "ridge"


class RidgePredictor:
    def __init__(self, ridge: Any, features: list[str], medians: dict[str, float], offsets: dict[str, float],
                 quantiles: list[float], lineage: dict[str, Any] | None = None,
                 training_window: dict[str, Any] | None = None) -> None:
        self.ridge, self.medians, self.offsets = ridge, medians, offsets
        self._features, self._quantiles = list(features), list(quantiles)
        self._lineage, self.training_window = dict(lineage or {}), dict(training_window or {})

    @property
    def features(self) -> list[str]:
        return list(self._features)

    @property
    def quantiles(self) -> list[float]:
        return list(self._quantiles)

    @property
    def lineage(self) -> dict[str, Any]:
        return dict(self._lineage)

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        x = X[self._features].astype("float64").fillna(self.medians).to_numpy()
        p50 = self.ridge.predict(x)
        return pd.DataFrame({quantile_column(q): p50 + self.offsets.get(quantile_column(q), 0.0)
                             for q in self._quantiles}, index=X.index)

    def with_info(self, *, lineage: dict[str, Any], training_window: dict[str, Any]) -> RidgePredictor:
        return RidgePredictor(self.ridge, self._features, self.medians, self.offsets, self._quantiles,
                              lineage, training_window)

    def save(self, path: str | os.PathLike[str]) -> Path:
        return write_envelope(path, kind=KIND, features=self._features, quantiles=self._quantiles,
                              lineage=self._lineage, training_window=self.training_window,
                              ridge={"coef": self.ridge.coef_.tolist(), "intercept": float(self.ridge.intercept_),
                                     "alpha": float(self.ridge.alpha)},
                              medians=self.medians, offsets=self.offsets)


def load(folder: Path) -> RidgePredictor:
    from sklearn.linear_model import Ridge

    meta = read_metadata(folder)
    r = Ridge(alpha=meta["ridge"]["alpha"])
    r.coef_ = np.asarray(meta["ridge"]["coef"], dtype="float64")
    r.intercept_ = float(meta["ridge"]["intercept"])
    r.n_features_in_ = len(meta["features"])
    return RidgePredictor(r, meta["features"], meta["medians"], meta["offsets"], meta["quantiles"],
                          meta["lineage"], meta["training_window"])


def fit(req: Any) -> RidgePredictor:
    from sklearn.linear_model import Ridge

    rows = req.frame[req.frame[req.target].notna()]
    feats = [c for c in req.features if pd.api.types.is_numeric_dtype(rows[c]) and rows[c].notna().any()]
    medians = {c: float(rows[c].median()) for c in feats}
    x = rows[feats].astype("float64").fillna(medians).to_numpy()
    y = rows[req.target].to_numpy(dtype="float64")
    r = Ridge(alpha=1.0).fit(x, y)
    err = y - r.predict(x)
    quantiles = [0.1, 0.5, 0.9]
    offsets = {quantile_column(q): float(np.quantile(err, q)) for q in quantiles if q != 0.5}
    return RidgePredictor(r, feats, medians, offsets, quantiles)


@hookimpl
def register_models(register: Any) -> None:
    from spotcast_train.models import ModelType

    register(ModelType(MODEL, "scikit-learn Ridge on every numeric feature (a test plugin)", fit))


@hookimpl
def register_model_formats(register: Any) -> None:
    register(KIND, load)
