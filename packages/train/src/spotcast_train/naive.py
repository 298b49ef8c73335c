"""Naive forecasts as models: a column copied, with an interval from its past errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotcast_storage.boosted import ModelSpec, Predictor
from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import quantile_column


def fit_naive(train: pd.DataFrame, column: str, target: str,
              quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> Predictor:
    """The forecast is ``train[column]``; p10/p90 add the empirical quantiles of its errors on
    the training rows, so a naive model has an honest interval too (metadata only, no booster)."""
    for c in (column, target):
        if c not in train.columns:
            raise ValidationError(f"training frame lacks column {c!r} needed by the naive model")
    err = (train[target] - train[column]).to_numpy(dtype="float64", na_value=np.nan)
    err = err[np.isfinite(err)]
    resid = {}
    for q in quantiles:
        if q != 0.5:
            resid[quantile_column(q)] = float(np.quantile(err, q)) if len(err) else 0.0
    spec = ModelSpec(kind="naive", features=[column], quantiles=list(quantiles), naive_column=column,
                     residual_quantiles=resid, target=target,
                     info={"residual_rows": len(err)})
    return Predictor(spec)
