"""The default model: XGBoost on asinh-scaled prices (see spotcast_train.xgbmodel)."""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.xgbmodel import XGBSettings, fit_xgb, usable_features


def fit(req: FitRequest) -> Any:
    settings = req.options.get("settings") or XGBSettings()
    features = usable_features(req.frame, req.features)
    return fit_xgb(req.frame, features, req.target, req.time_col, settings, until=req.until)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("xgboost", "XGBoost on asinh-scaled prices relative to the last known day; "
                       "p10/p90 from out-of-sample residuals per horizon day", fit))
