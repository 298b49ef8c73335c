"""The default model: XGBoost on asinh-scaled prices (see spotcast_train.xgbmodel), optionally
averaged with LEAR-style linear members (see spotcast_train.linear)."""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl
from spotcast_train.linear import LinearSettings
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.xgbmodel import XGBSettings, fit_xgb, usable_features


def fit(req: FitRequest) -> Any:
    """``options["settings"]``: an :class:`XGBSettings`; ``options["linear"]``: a
    :class:`LinearSettings` (or True for its defaults, None/False for trees alone) overriding
    ``settings.linear``."""
    settings = req.options.get("settings") or XGBSettings()
    if "linear" in req.options:
        linear = req.options["linear"]
        settings = settings.with_(linear=LinearSettings() if linear is True else (linear or None))
    features = usable_features(req.frame, req.features)
    return fit_xgb(req.frame, features, req.target, req.time_col, settings, until=req.until)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("xgboost", "XGBoost on asinh-scaled prices relative to the last known day; "
                       "p10/p90 from out-of-sample residuals per horizon day", fit))
