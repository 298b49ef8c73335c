"""A LEAR-style linear member: XGBoost ``gblinear`` on the per-day design of Lago et al. (2021).

LEAR (the epftoolbox reference) is one L1-regularised linear model per hour of the day whose
inputs are the 24 prices of d-1, d-2, d-3 and d-7, the exogenous forecasts of d, d-1 and d-7 and
weekday dummies, every input and the target median/MAD-scaled and asinh-transformed, calibrated
on several window lengths (56, 84, 1092, 1456 days) and averaged. Here each (window, horizon day)
is one 24-output ``gblinear`` booster (one linear model per hour, fitted jointly; the outputs do
not share coefficients), so the artifact stays XGBoost UBJSON.

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


def params(s: LinearSettings) -> dict[str, Any]:
    return {"booster": "gblinear", "updater": s.updater, "objective": "reg:squarederror", "alpha": s.alpha,
            "lambda": s.reg_lambda, "eta": s.eta, "nthread": s.nthread, "verbosity": 0}


def fit_linear_part(train: pd.DataFrame, target: str, time_col: str, settings: LinearSettings,
                    until: pd.Timestamp | None = None) -> tuple[LinearPart, list[Any]] | None:
    """Fit the linear members on ``train`` (already restricted to rows known at the origin
    ``until``; windows count back from it). None when no window has ``min_days`` usable days."""
    import xgboost as xgb

    sources = list(settings.sources) if settings.sources is not None else default_sources(train)
    price_cols = [c for c in sources if c.startswith("price_")]
    if not price_cols:
        return None
    end = pd.Timestamp(until) if until is not None else pd.Timestamp(train[time_col].max())
    width = len(sources) * settings.hours
    members: list[LinearMember] = []
    boosters: list[Any] = []
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
            xc, xs = _mad(X[:, :width])
            yc, ys = _mad(Y)
            part_probe = LinearPart(sources=sources, hours=settings.hours, calendar=settings.calendar,
                                    time_col=time_col, members=[LinearMember(
                                        file="probe.ubj", x_center=list(xc), x_scale=list(xs),
                                        y_center=list(yc), y_scale=list(ys))])
            Z = part_probe.scale_design(X, part_probe.members[0]).astype("float32")
            Zy = np.arcsinh((Y - yc) / ys)
            dm = xgb.DMatrix(Z, label=Zy, missing=np.nan, nthread=settings.nthread)
            boosters.append(xgb.train(p, dm, num_boost_round=settings.num_boost_round))
            t = times[sel]
            members.append(LinearMember(
                file=f"linear-d{day}-w{w:04d}.ubj", window_days=w, horizon_day=day, rows=len(sel),
                trained_from=t.min().isoformat(), trained_until=t.max().isoformat(),
                x_center=[float(v) for v in xc], x_scale=[float(v) for v in xs],
                y_center=[float(v) for v in yc], y_scale=[float(v) for v in ys]))
    if not members:
        return None
    part = LinearPart(sources=sources, members=members, weight=settings.weight, hours=settings.hours,
                      calendar=settings.calendar, time_col=time_col, params=p,
                      info={"settings": settings.to_dict()})
    return part, boosters


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
