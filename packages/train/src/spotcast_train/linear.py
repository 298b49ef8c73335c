"""A LEAR-style linear member: XGBoost ``gblinear`` on the per-day design of Lago et al. (2021).

LEAR (the epftoolbox reference) is one L1-regularised linear model per hour of the day whose
inputs are the 24 prices of d-1, d-2, d-3 and d-7, the exogenous forecasts of d, d-1 and d-7 and
weekday dummies, every input and the target median/MAD-scaled and asinh-transformed, calibrated
on several window lengths (56, 84, 1092, 1456 days) and averaged. Here each (window, horizon day)
is one 24-output ``gblinear`` booster (one linear model per hour, fitted jointly; the outputs do
not share coefficients), so the artifact stays XGBoost UBJSON.

``LinearSettings(solver="lear")`` fits each (window, horizon day) as the published LEAR instead:
per hour LARS with AIC chooses the penalty and a LASSO is refitted at it, by the very code of the
benchmark's reproduction (:class:`spotcast_train.lear.LearModel`, scikit-learn, the ``lear``
extra), on the same design. The member is stored as coefficients, intercepts and the scaler's
medians/MADs (:class:`~spotcast_storage.boosted.LinearCoefficients`), so serve predicts it with
NumPy alone. Training days must be complete (every design value and all 24 labels; a LASSO has
no rule for a missing input, e.g. hour 2 of a 23-hour DST day), and a forecast day with a missing
input gets no linear forecast (the trees forecast it alone).

The design is built by :func:`spotcast_storage.boosted.lear_design` from the rows of one
origin (serve needs it too, and cannot import train): the ``hour``-pivot of the rows'
``source`` columns. On a ``price_features`` frame the first horizon day's rows give the 24
prices of d-1 (``price_lag_1d``), d-2, d-3, d-7 and the exogenous forecasts of the target day;
on the epftoolbox frame (:mod:`spotcast_train.epf`) the exogenous lags of d-1 and d-7 too.

Pure: frames in, :class:`~spotcast_storage.boosted.Predictor` out; no store access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.boosted import (
    LINEAR_SOLVERS,
    LINEAR_SUFFIX,
    LinearCoefficients,
    LinearMember,
    LinearPart,
    ModelSpec,
    Predictor,
    Transform,
    lear_design,
)
from spotcast_storage.errors import ValidationError

PRICE_SOURCES = ("price_lag_1d", "price_lag_2d", "price_lag_3d", "price_lag_7d")
MAD_NORMAL = 0.6744897501960817
ALPHA_SELECTIONS = ("published", "aic")
"""Where AIC chooses LEAR's penalty (:func:`spotcast_train.lear.select_alpha`)."""


@dataclass(frozen=True)
class LinearSettings:
    """Everything that decides the linear member; recorded in the artifact and benchmark output.

    Defaults were chosen on the validation years of the epftoolbox data (benchmarks/README.md,
    section train): alpha 0.01, no L2, 50 shotgun rounds with eta 1, windows 56/84/1092/1456."""

    windows_days: tuple[int, ...] = (56, 84, 1092, 1456)
    horizon_days: tuple[int, ...] = (1,)
    """Horizon days with a linear member (each its own design and boosters); the trees alone
    forecast the others."""
    sources: tuple[str, ...] | None = None
    """Columns pivoted by hour into the design; None: :func:`default_sources` of the frame."""
    calendar: str | None = "weekday"
    alpha: float = 0.01
    reg_lambda: float = 0.0
    num_boost_round: int = 50
    eta: float = 1.0
    updater: str = "shotgun"
    weight: float = 0.4
    """Weight of the linear forecast in the blend with the trees, chosen on the validation years
    (lowest mean relative MAE over BE and PJM among 0, 0.3, 0.4, 0.5, 0.6, 0.7, 1; 0.4 and 0.5
    were within 0.4% of each other)."""
    hours: int = 24
    min_days: int = 14
    nthread: int = 1
    solver: str = "gblinear"
    """How each member is fitted: ``gblinear`` (one 24-output XGBoost gblinear booster, L1
    ``alpha``, ``num_boost_round`` rounds; this class's default, for settings built from Python)
    or ``lear`` (the published LEAR: per hour LassoLarsIC with AIC, then a Lasso at that penalty;
    scikit-learn; ``alpha``, ``reg_lambda``, ``num_boost_round``, ``eta``, ``updater`` do not
    apply), the stage default model's solver (``builtins.xgboost.STAGE_LINEAR``)."""
    alpha_selection: str = "published"
    """``lear`` only: where AIC chooses the penalty (:func:`spotcast_train.lear.select_alpha`):
    ``published`` (scikit-learn 0.2x's normalised design, what the published forecasts used) or
    ``aic`` (the design as it is)."""

    def __post_init__(self) -> None:
        if self.solver not in LINEAR_SOLVERS:
            raise ValidationError(f"linear solver {self.solver!r}: use one of {', '.join(LINEAR_SOLVERS)}")
        if self.alpha_selection not in ALPHA_SELECTIONS:
            raise ValidationError(f"LEAR alpha selection {self.alpha_selection!r}: use one of "
                                  f"{', '.join(ALPHA_SELECTIONS)}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("windows_days", "horizon_days", "sources"):
            if d[k] is not None:
                d[k] = list(d[k])
        return d

    def with_(self, **kw: Any) -> LinearSettings:
        return replace(self, **kw)


def default_sources(frame: pd.DataFrame) -> list[str]:
    """The LEAR inputs a frame offers: the price lags of d-1, d-2, d-3, d-7 and every exogenous
    series (``exo_*``, with its ``_lag_1d``/``_lag_7d`` when present) that holds a value; daily
    means (``*_day_mean``) are left out (24 copies of one number)."""
    out = [c for c in PRICE_SOURCES if c in frame.columns and frame[c].notna().any()]
    for c in frame.columns:
        if c.startswith("exo_") and not c.endswith("_day_mean") and frame[c].notna().any() \
                and pd.api.types.is_numeric_dtype(frame[c]):
            out.append(c)
    return out


def _mad(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise median and MAD (scaled to a normal's standard deviation), NaN-aware; a
    constant or empty column gets centre 0 / scale 1 where undefined."""
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(a, axis=0)
            s = np.nanmedian(np.abs(a - med), axis=0) / MAD_NORMAL
    med = np.where(np.isfinite(med), med, 0.0)
    s = np.where(np.isfinite(s) & (s > 0), s, 1.0)
    return med, s


def require_solver(settings: LinearSettings) -> None:
    """Fail before any work where the solver's library is missing: ``lear`` needs scikit-learn
    (a dependency of spotcast-train); the error says how to install it."""
    if settings.solver == "lear":
        lear_module()


def lear_module() -> Any:
    """:mod:`spotcast_train.lear` (scikit-learn), or a :class:`ValidationError` saying how to install it."""
    import importlib

    try:
        return importlib.import_module("spotcast_train.lear")
    except ModuleNotFoundError as exc:
        if exc.name != "sklearn":
            raise
        raise ValidationError(f"linear solver 'lear': {exc.msg}") from None


def linear_options(linear: bool | None, solver: str | None, base: LinearSettings | None = None) -> dict[str, Any]:
    """The xgboost kind's ``options`` for `spotcast-train`'s ``--linear/--no-linear`` and
    ``--linear-solver`` (and for Python callers of `spotcast run`'s ``train_model_options``):
    ``{"linear": LinearSettings(...) | None}``, or ``{}`` for the model's default. ``base``: the
    linear part the model has by default (the stage's, with its weight), which ``--linear`` and
    ``--linear-solver`` start from. A solver that is unknown, contradicts ``--no-linear`` or lacks
    its library is an error here, before any fit or write."""
    base = base or LinearSettings()
    if solver is None:
        return {} if linear is None else {"linear": base if linear else None}
    if solver not in LINEAR_SOLVERS:
        raise ValidationError(f"--linear-solver {solver!r}: use one of {', '.join(LINEAR_SOLVERS)}")
    if linear is False:
        raise ValidationError(f"--no-linear with --linear-solver {solver}: a solver needs linear members; "
                              "drop one of the two")
    settings = base.with_(solver=solver)
    require_solver(settings)
    return {"linear": settings}


def params(s: LinearSettings) -> dict[str, Any]:
    if s.solver == "lear":
        return {"solver": "lear", "alpha_selection": s.alpha_selection, "criterion": "aic"}
    return {"booster": "gblinear", "updater": s.updater, "objective": "reg:squarederror", "alpha": s.alpha,
            "lambda": s.reg_lambda, "eta": s.eta, "nthread": s.nthread, "verbosity": 0}


def fit_linear_part(train: pd.DataFrame, target: str, time_col: str, settings: LinearSettings,
                    until: pd.Timestamp | None = None) -> tuple[LinearPart, list[Any]] | None:
    """Fit the linear members on ``train`` (already restricted to rows known at the origin
    ``until``; windows count back from it). None when no window has ``min_days`` usable days.

    Returns the part and one fitted member per :class:`LinearMember`: an ``xgboost.Booster``
    (gblinear) or :class:`LinearCoefficients` (lear)."""
    lear = lear_module() if settings.solver == "lear" else None
    sources = list(settings.sources) if settings.sources is not None else default_sources(train)
    price_cols = [c for c in sources if c.startswith("price_")]
    if not price_cols:
        return None
    end = pd.Timestamp(until) if until is not None else pd.Timestamp(train[time_col].max())
    width = len(sources) * settings.hours
    members: list[LinearMember] = []
    boosters: list[Any] = []
    alphas: dict[str, list[float]] = {}  # lear: each member's 24 chosen penalties, for the record
    p = params(settings)
    for day in sorted(settings.horizon_days):
        rows = train[train["horizon_day"] == day] if "horizon_day" in train.columns else train.iloc[:0]
        if rows.empty:
            continue
        keys, design, y = lear_design(rows, sources, hours=settings.hours, calendar=settings.calendar,
                                      time_col=time_col, target=target)
        price_idx = [i * settings.hours + h for i, c in enumerate(sources) if c in price_cols
                     for h in range(settings.hours)]
        usable = np.isfinite(y).all(axis=1) & np.isfinite(design[:, price_idx]).all(axis=1)
        if lear is not None:  # a LASSO needs every input of a training day
            usable &= np.isfinite(design).all(axis=1)
        times = pd.DatetimeIndex(keys[time_col])
        prev: tuple[int, int] | None = None  # (first usable day, count) of the previous window
        for w in sorted(settings.windows_days):
            sel = np.flatnonzero(usable & np.asarray(times >= end - pd.Timedelta(days=w)))
            if len(sel) < settings.min_days:
                continue
            sig = (int(sel[0]), len(sel))
            if prev == sig:  # same days as the shorter window: same booster, counted twice
                members[-1] = replace(members[-1], weight=members[-1].weight + 1.0)
                continue
            prev = sig
            X, Y = design[sel], y[sel]
            file = f"linear-d{day}-w{w:04d}{LINEAR_SUFFIX[settings.solver][0]}"
            if lear is not None:
                fitted_lear = lear.LearModel(alpha_mode=settings.alpha_selection,
                                             dummies=X.shape[1] - width).fit(X, Y)
                xc, xs = fitted_lear.x_scaler.center, fitted_lear.x_scaler.scale
                yc, ys = fitted_lear.y_scaler.center, fitted_lear.y_scaler.scale
                boosters.append(LinearCoefficients(fitted_lear.coef, fitted_lear.intercept))
                alphas[file] = [float(a) for a in fitted_lear.alphas]
            else:
                xc, xs = _mad(X[:, :width])
                yc, ys = _mad(Y)
                boosters.append(_fit_gblinear(X, Y, xc, xs, yc, ys, sources, settings, time_col, p))
            t = times[sel]
            members.append(LinearMember(
                file=file, window_days=w, horizon_day=day, rows=len(sel),
                trained_from=t.min().isoformat(), trained_until=t.max().isoformat(),
                x_center=[float(v) for v in xc], x_scale=[float(v) for v in xs],
                y_center=[float(v) for v in yc], y_scale=[float(v) for v in ys]))
    if not members:
        return None
    part = LinearPart(sources=sources, members=members, weight=settings.weight, hours=settings.hours,
                      calendar=settings.calendar, time_col=time_col, params=p, solver=settings.solver,
                      info={"settings": settings.to_dict(), **({"alphas": alphas} if alphas else {})})
    return part, boosters


def _fit_gblinear(X: np.ndarray, Y: np.ndarray, xc: np.ndarray, xs: np.ndarray, yc: np.ndarray, ys: np.ndarray,
                  sources: list[str], settings: LinearSettings, time_col: str, p: dict[str, Any]) -> Any:
    """One 24-output gblinear booster on the member's scaled design and asinh-scaled target."""
    import xgboost as xgb

    probe = LinearPart(sources=sources, hours=settings.hours, calendar=settings.calendar, time_col=time_col,
                       members=[LinearMember(file="probe.ubj", x_center=list(xc), x_scale=list(xs),
                                             y_center=list(yc), y_scale=list(ys))])
    Z = probe.scale_design(X, probe.members[0]).astype("float32")
    Zy = np.arcsinh((Y - yc) / ys)
    dm = xgb.DMatrix(Z, label=Zy, missing=np.nan, nthread=settings.nthread)
    return xgb.train(p, dm, num_boost_round=settings.num_boost_round)


def fit_linear(train: pd.DataFrame, target: str, time_col: str, settings: LinearSettings,
               until: pd.Timestamp | None = None) -> Predictor:
    """A linear-only model (``kind="linear"``): the linear forecast, NaN on rows it does not cover."""
    fitted = fit_linear_part(train, target, time_col, settings, until)
    if fitted is None:
        raise ValidationError(
            f"no training window of {list(settings.windows_days)} days has {settings.min_days} complete days "
            "(24 labelled hours and all price lags) for a linear model")
    part, boosters = fitted
    spec = ModelSpec(kind="linear", features=[], quantiles=[0.5], transform=Transform(kind="identity"),
                     target=target, linear=part, info={"linear": settings.to_dict()})
    return Predictor(spec, [], boosters)


def with_linear(model: Predictor, train: pd.DataFrame, target: str, time_col: str, settings: LinearSettings,
                until: pd.Timestamp | None = None) -> Predictor:
    """``model`` (trees) plus linear members fitted on the same rows: the point forecast becomes
    ``(1 - weight) * trees + weight * linear`` on the horizon days the linear part covers. With
    too little history for any linear window, ``model`` comes back unchanged (trees alone)."""
    fitted = fit_linear_part(train, target, time_col, settings, until)
    if fitted is None:
        return model
    part, boosters = fitted
    spec = replace(model.spec, linear=part, info={**model.spec.info, "linear": settings.to_dict()})
    return Predictor(spec, model.boosters, boosters)


def blend_frames(trees: pd.DataFrame, linear: pd.DataFrame, weight: float,
                 on: Sequence[str] = ("origin", "ts")) -> pd.DataFrame:
    """Forecast frames of the trees and the linear model (``p50`` columns, keyed ``on``) combined
    with :func:`spotcast_storage.modelformat.blend`, the Predictor's own rule: for when the two
    were recalibrated on different schedules (the benchmark's trees weekly, linear daily)."""
    from spotcast_storage.boosted import blend

    m = trees.merge(linear[[*on, "p50"]].rename(columns={"p50": "p50_linear"}), on=list(on), how="left",
                    validate="one_to_one")
    m = m.rename(columns={"p50": "p50_trees"})
    m["p50"] = blend(m["p50_trees"].to_numpy(), m["p50_linear"].to_numpy(), weight)
    return m
