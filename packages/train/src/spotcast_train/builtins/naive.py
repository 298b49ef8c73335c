"""The naive references: same hour one day before (naive-daily), one week before (naive-weekly)."""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.naive import fit_naive

NAIVE_COLUMNS = {"naive-daily": "price_lag_1d", "naive-weekly": "price_lag_7d"}


def _fitter(column: str) -> Any:
    def fit(req: FitRequest) -> Any:
        return fit_naive(req.frame, column, req.target, quantiles=req.options.get("quantiles", (0.1, 0.5, 0.9)))

    return fit


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("naive-daily", "price of the same hour one day before (price_lag_1d)",
                       _fitter(NAIVE_COLUMNS["naive-daily"]), baseline=True))
    register(ModelType("naive-weekly", "price of the same hour one week before (price_lag_7d)",
                       _fitter(NAIVE_COLUMNS["naive-weekly"]), baseline=True))
