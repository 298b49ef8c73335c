"""The naive references: same hour one day before (naive-daily), one week before (naive-weekly)."""

from __future__ import annotations

from typing import Any

from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.naive import fit_naive

NAIVE_COLUMNS = {"naive-daily": "price_lag_1d", "naive-weekly": "price_lag_7d"}


def _fitter(column: str) -> Any:
    def fit(req: FitRequest) -> Any:
        return fit_naive(req.frame, column, req.target, quantiles=req.options.get("quantiles", (0.1, 0.5, 0.9)))

    return fit


def _check(name: str) -> Any:
    def check(options: dict[str, Any]) -> None:
        """A naive model takes no settings but ``quantiles``: an option of another model (``--dnn``,
        ``--linear``) is an error before any work rather than silently ignored."""
        other = sorted(k for k in options if k != "quantiles")
        if other:
            flags = ", ".join(f"--{k.replace('_', '-')}" for k in other)
            what = "is an option" if len(other) == 1 else "are options"
            raise ValidationError(f"model {name} takes no option(s) {other} ({flags} {what} of the xgboost model); "
                                  f"drop {'it' if len(other) == 1 else 'them'} or use --model xgboost")

    return check


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("naive-daily", "price of the same hour one day before (price_lag_1d)",
                       _fitter(NAIVE_COLUMNS["naive-daily"]), baseline=True, check=_check("naive-daily")))
    register(ModelType("naive-weekly", "price of the same hour one week before (price_lag_7d)",
                       _fitter(NAIVE_COLUMNS["naive-weekly"]), baseline=True, check=_check("naive-weekly")))
