"""Naive forecasts as models: a column copied, with an interval from its past errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spotcast_storage.boosted import INTERVAL_UNIT, IntervalScale, ModelSpec, Predictor
from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import quantile_column


def fit_naive(train: pd.DataFrame, column: str, target: str,
              quantiles: Sequence[float] = (0.1, 0.5, 0.9), scale_column: str | None = INTERVAL_UNIT) -> Predictor:
    """The forecast is ``train[column]``; p10/p90 add the empirical quantiles of its errors on
    the training rows, so a naive model has an honest interval too (metadata only, no booster).

    Where the frame carries ``scale_column`` (the recent volatility known at the origin), errors
    are stored in units of it (:class:`IntervalScale`), like the learned models': serve then
    recalibrates the naive's band online on its own errors (``spotcast_serve.service.calibrate``)
    instead of publishing the fit-time band, which covered 53% of the prices in the weeks the
    weekly naive served the half-year replay (benchmarks/README.md, "replay")."""
    for c in (column, target):
        if c not in train.columns:
            raise ValidationError(f"training frame lacks column {c!r} needed by the naive model")
    err = (train[target] - train[column]).to_numpy(dtype="float64", na_value=np.nan)
    iscale = None
    if scale_column is not None and scale_column in train.columns:
        iscale = IntervalScale.fit(scale_column, train[scale_column].to_numpy(dtype="float64", na_value=np.nan))
    if iscale is not None:
        err = err / iscale.units(train)
    err = err[np.isfinite(err)]
    resid = {}
    for q in quantiles:
        if q != 0.5:
            resid[quantile_column(q)] = float(np.quantile(err, q)) if len(err) else 0.0
    spec = ModelSpec(kind="naive", features=[column], quantiles=list(quantiles), naive_column=column,
                     residual_quantiles=resid, target=target, interval_scale=iscale,
                     info={"residual_rows": len(err)})
    return Predictor(spec)
