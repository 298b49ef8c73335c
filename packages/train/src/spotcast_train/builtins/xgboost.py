"""The default model: an ensemble of families on horizon day 1 — XGBoost on asinh-scaled prices
(spotcast_train.xgbmodel), LEAR as published (spotcast_train.linear, solver ``lear``) and the
epftoolbox DNN (spotcast_train.dnnpart) — with the trees alone on later horizon days."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from spotcast_storage.boosted import Predictor
from spotcast_storage.hookspecs import hookimpl
from spotcast_train.dnnpart import DnnPartSettings, dnn_module
from spotcast_train.linear import LinearSettings, fit_linear_part, require_solver
from spotcast_train.models import FitRequest, ModelType
from spotcast_train.xgbmodel import XGBSettings, fit_xgb, labelled_rows, usable_features

STAGE_LINEAR: LinearSettings | None = LinearSettings(solver="lear", weight=0.35)
"""Linear members of the stage's default model (when no ``settings`` are passed): LEAR as
published (per-hour LassoLarsIC), one family of the default's ensemble of families."""
STAGE_DNN: DnnPartSettings | None = DnnPartSettings(weight=0.20)
"""DNN members of the stage's default model: the epftoolbox network, the ensemble's third family."""
STAGE_SETTINGS: XGBSettings = XGBSettings(linear=STAGE_LINEAR, dnn=STAGE_DNN)
"""What :func:`fit` trains when no ``settings`` are passed (`spotcast-train fit`, `spotcast run`):
an ensemble of three families on horizon day 1, ``0.45 trees + 0.35 LEAR + 0.20 DNN``, trees alone
on later days. The weights are the point of a 0.05 grid with the lowest mean rMAE over the BE and
PJM validation years (the 364 days before each epftoolbox test period; never the test period):
`benchmarks/family_weights.py`, recorded in benchmarks/README.md. Named and read at each fit, so a
process that drives the real CLI can choose smaller settings for every fit it makes: the
cross-stage tests do (tests/fast_train.py), since their checks are about the chain, not accuracy."""


def settings_of(options: dict[str, Any]) -> XGBSettings:
    """The settings a fit with these ``options`` uses (weights that cannot blend fail here):
    ``True`` for a part is the stage default's part (or the part's own defaults if it has none)."""
    settings = options.get("settings") or STAGE_SETTINGS
    if "linear" in options:
        linear = options["linear"]
        settings = settings.with_(linear=(STAGE_LINEAR or LinearSettings()) if linear is True else (linear or None))
    if "dnn" in options:
        dnn = options["dnn"]
        settings = settings.with_(dnn=(STAGE_DNN or DnnPartSettings()) if dnn is True else (dnn or None))
    return settings


LEGACY_SETTINGS: XGBSettings = XGBSettings(linear=LinearSettings())
"""What a recipe without ``settings`` means: releases before the ensemble default recorded the
options as given (``{}`` for the default), and their default was trees + gblinear members."""


def recipe_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options a recipe records: the settings they resolve to (the default included), so a
    later release with another default sees another recipe and the gate re-scores the model that
    serves as it was trained."""
    out = {k: v for k, v in options.items() if k not in ("settings", "linear", "dnn")}
    out["settings"] = settings_of(options)
    return out


def recorded_options(options: dict[str, Any]) -> dict[str, Any]:
    """Options of a recipe recorded before :func:`recipe_options`: its ``{}`` meant
    :data:`LEGACY_SETTINGS` and its ``linear=True`` the gblinear members of then."""
    if "settings" in options:
        return options
    out = {**options, "settings": LEGACY_SETTINGS}
    if out.get("linear") is True:
        out["linear"] = LinearSettings()
    if out.get("dnn") is True:
        out["dnn"] = DnnPartSettings()
    return out


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


def recalibrate(model: Any, req: FitRequest) -> tuple[Any, list[str]] | None:
    """The daily refit of the ensemble's cheap family: the linear members (LEAR: about 5 s of CPU
    on three years, against about 50 s for the trees and the DNN) refitted on the request's rows
    as a fit of the recipe would, the trees, DNN members and band kept. LEAR as published is
    recalibrated daily; on the epftoolbox test periods a daily LEAR beside weekly trees and DNN
    scored BE 6.076 / PJM 2.842 MAE against 6.095 / 2.877 all weekly (benchmarks/README.md).
    None for a model without linear members, or with too few complete days for any window."""
    settings = settings_of(req.options)
    if not isinstance(model, Predictor) or model.spec.linear is None or settings.linear is None:
        return None
    fitted = fit_linear_part(labelled_rows(req.frame, req.target, settings), req.target, req.time_col, settings.linear, until=req.until)
    if fitted is None:
        return None
    part, boosters = fitted
    spec = replace(model.spec, linear=part, info={**model.spec.info, "linear": settings.linear.to_dict()})
    return Predictor(spec, model.boosters, boosters, model.dnn_nets), ["linear"]


@hookimpl
def register_models(register: Any) -> None:
    register(ModelType("xgboost", "an ensemble of families: XGBoost on asinh-scaled prices relative to the last "
                       "known day, averaged on horizon day 1 with LEAR (per-hour LASSO, AIC) and DNN members "
                       "(0.45/0.35/0.20); p10/p90 from out-of-sample residuals per horizon day", fit, check=check,
                       recipe_options=recipe_options, recorded_options=recorded_options,
                       recalibrate=recalibrate))
