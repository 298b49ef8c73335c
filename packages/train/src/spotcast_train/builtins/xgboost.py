"""The default model: XGBoost on asinh-scaled prices (see spotcast_train.xgbmodel), optionally
averaged with LEAR-style linear members (see spotcast_train.linear) and DNN members (see
spotcast_train.dnnpart; off unless asked for)."""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl
from spotcast_train.dnnpart import DnnPartSettings, dnn_module
from spotcast_train.linear import LinearSettings, require_solver
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.xgbmodel import XGBSettings, fit_xgb, usable_features

STAGE_LINEAR: LinearSettings | None = LinearSettings()
"""Linear members of the stage's default model (when no ``settings`` are passed): on, because
on the epftoolbox validation years 0.6 trees + 0.4 linear lowered day-ahead MAE by 2.6% (BE) and
5.1% (PJM), on stage-shaped synthetic data it did not hurt (D+1 -0.3%), and `spotcast run` on the
synthetic demo took no longer (package README, "Linear members")."""
STAGE_SETTINGS: XGBSettings = XGBSettings(linear=STAGE_LINEAR)
"""What :func:`fit` trains when no ``settings`` are passed (`spotcast-train fit`, `spotcast run`).
Named and read at each fit, so a process that drives the real CLI can choose smaller boosting
settings for every fit it makes: the cross-stage tests do (tests/fast_train.py), since their
checks are about the chain, not accuracy, and 600 rounds were most of their time."""


def settings_of(options: dict[str, Any]) -> XGBSettings:
    """The settings a fit with these ``options`` uses (weights that cannot blend fail here)."""
    settings = options.get("settings") or STAGE_SETTINGS
    if "linear" in options:
        linear = options["linear"]
        settings = settings.with_(linear=LinearSettings() if linear is True else (linear or None))
    if "dnn" in options:
        dnn = options["dnn"]
        settings = settings.with_(dnn=DnnPartSettings() if dnn is True else (dnn or None))
    return settings


def check(options: dict[str, Any]) -> None:
    """Fail before any work on options that cannot fit: weights that do not blend, a solver or DNN
    whose library (scikit-learn, the ``lear`` extra) is missing."""
    settings = settings_of(options)
    if settings.linear is not None:
        require_solver(settings.linear)
    if settings.dnn is not None:
        dnn_module()


def fit(req: FitRequest) -> Any:
    """``options["settings"]``: an :class:`XGBSettings` (default: :data:`STAGE_SETTINGS`);
    ``options["linear"]``: a :class:`LinearSettings` (or True for its defaults, None/False for trees
    alone) overriding ``settings.linear``; ``options["dnn"]``: a :class:`DnnPartSettings` (or True
    for its defaults, None/False for none) overriding ``settings.dnn``; ``options["interval_history"]``:
    earlier forecasts with their actuals for the online-conformal band
    (:func:`spotcast_train.xgbmodel.fit_xgb`)."""
    settings = settings_of(req.options)
    features = usable_features(req.frame, req.features)
    return fit_xgb(req.frame, features, req.target, req.time_col, settings, until=req.until,
                   interval_history=req.options.get("interval_history"))


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("xgboost", "XGBoost on asinh-scaled prices relative to the last known day, averaged "
                       "on horizon day 1 with LEAR-style linear members; p10/p90 from out-of-sample residuals "
                       "per horizon day", fit, check=check))
