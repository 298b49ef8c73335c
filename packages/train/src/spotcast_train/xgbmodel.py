"""The XGBoost quantile ensemble: fitting. Prediction lives in spotcast_storage.modelformat.

One model serves all hours and horizon days (they are features). Each member is one booster
trained on the asinh-transformed price relative to the last known day's level (see
:mod:`spotcast_storage.modelformat`) with squared error -- as LEAR fits least squares to asinh
prices -- and p10/p90 come from out-of-sample residual quantiles per horizon day; XGBoost's
quantile objective is available (``objective="quantile"``) but trained about 6x slower here.
Members may be calibrated on several window lengths and averaged (the literature's 56/84/1092/1456
days); the defaults were chosen on the validation years of the epftoolbox data (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.boosted import (
    INTERVAL_UNIT,
    IntervalScale,
    Member,
    ModelSpec,
    Predictor,
    Transform,
)
from spotcast_storage.errors import ValidationError
from spotcast_storage.intervals import OnlineSettings, conformal_quantile, offsets_at
from spotcast_storage.modelformat import quantile_column
from spotcast_train.dnnpart import DnnPartSettings, check_weights, with_dnn
from spotcast_train.gate import OMIT_WHEN_NONE
from spotcast_train.linear import LinearSettings, with_linear

DEFAULT_WINDOWS: tuple[int, ...] = (1456,)
"""One member on up to four years: on the validation years of the epftoolbox data, adding
members on 56/84/1092-day windows did not help a tree model (BE -0.1%, PJM +3.1% MAE)."""
KNOWN_COLUMNS = ("label_known_at", "known_at")
"""Columns that say when a row's label became known (store frames, epftoolbox frames)."""


@dataclass(frozen=True)
class XGBSettings:
    """Everything that decides a fitted model; recorded in the artifact and in benchmark output."""

    windows_days: tuple[int, ...] = DEFAULT_WINDOWS
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    objective: str = "squared"
    """``squared``: one booster output per member (squared error on the asinh scale, as LEAR
    uses least squares on asinh prices), quantiles from residuals on the last ``calibration_days``
    of origins, which a model trained without them forecasts; ``quantile``: XGBoost's
    multi-quantile objective (about 6x slower to train here)."""
    calibration_days: int = 91
    """Origins held out to measure residuals: 28 days saw a single regime, so the band was as
    wide as that month's errors (benchmarks/README.md, "intervals")."""
    residual_by: str | None = "horizon_day"
    interval_scale_column: str | None = INTERVAL_UNIT
    """Residuals are measured in units of this column (recent price volatility known at the
    origin), so the band follows the volatility of the season; None: one width all year.
    ``roll7_std`` rather than ``roll28_std``: the 7-day std sees a change of regime within days,
    and on the BE and real SE4 rolling backtests the band in its units had lower pinball loss and
    higher coverage than in 28-day units (benchmarks/README.md, "intervals")."""
    num_boost_round: int = 600
    eta: float = 0.03
    max_depth: int = 8
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bynode: float = 0.8
    reg_lambda: float = 1.0
    max_bin: int = 128
    transform: str = "asinh"
    level: str = "last_day_mean"
    scale_column: str | None = None
    combine: str = "mean"
    nthread: int = 2
    seed: int = 0
    min_rows: int = 48
    extra_params: dict[str, Any] = field(default_factory=dict)
    linear: LinearSettings | None = None
    """LEAR-style linear members averaged with the trees (:mod:`spotcast_train.linear`); None:
    trees alone. The stage's default model sets it (``builtins.xgboost.STAGE_LINEAR``; why: the
    package README, "Linear members")."""
    dnn: DnnPartSettings | None = field(default=None, metadata={OMIT_WHEN_NONE: True})
    """DNN members blended with the trees and the linear members (:mod:`spotcast_train.dnnpart`);
    None (this class's default): no DNN; the stage's default model sets it
    (``builtins.xgboost.STAGE_DNN``). Recorded in a
    recipe only when set (:data:`spotcast_train.gate.OMIT_WHEN_NONE`): a model registered with settings
    before this field existed has the same recipe as those settings now."""

    def __post_init__(self) -> None:
        if self.dnn is not None:  # weights that cannot blend fail here, before any fit
            check_weights(self.linear.weight if self.linear is not None else None, self.dnn.weight)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["windows_days"] = list(self.windows_days)
        d["quantiles"] = list(self.quantiles)
        d["linear"] = self.linear.to_dict() if self.linear is not None else None
        if self.dnn is not None:  # the key only where it says something: settings recorded before it stay equal
            d["dnn"] = self.dnn.to_dict()
        else:
            d.pop("dnn")
        return d

    def with_(self, **kw: Any) -> XGBSettings:
        return replace(self, **kw)


def is_price_column(name: str) -> bool:
    """Price-valued inputs get the target's transform (so they live on the target's scale)."""
    return (name.startswith("price_lag_") or name.startswith("last_day_")
            or (name.startswith("roll") and name.endswith("_mean")))


def booster_params(s: XGBSettings) -> dict[str, Any]:
    if s.objective not in ("squared", "quantile"):
        raise ValidationError(f"unknown objective {s.objective!r}; use 'squared' or 'quantile'")
    params: dict[str, Any] = {
        "tree_method": "hist", "eta": s.eta, "max_depth": s.max_depth,
        "min_child_weight": s.min_child_weight, "subsample": s.subsample,
        "colsample_bynode": s.colsample_bynode, "lambda": s.reg_lambda, "max_bin": s.max_bin,
        "nthread": s.nthread, "seed": s.seed, "verbosity": 0,
    }
    if s.objective == "squared":
        params["objective"] = "reg:squarederror"
    else:
        params["objective"] = "reg:quantileerror"
        params["quantile_alpha"] = list(s.quantiles) if len(s.quantiles) > 1 else s.quantiles[0]
    params.update(s.extra_params)
    return params


def fit_transform(y: np.ndarray, X: pd.DataFrame, s: XGBSettings, features: Sequence[str]) -> Transform:
    """The target transform, its scale constant fitted on the training rows (median absolute
    deviation of the price from its level, the robust spread the asinh should work on)."""
    cols = tuple(c for c in features if is_price_column(c))
    if s.transform == "identity":
        return Transform(kind="identity", level=None, columns=())
    probe = Transform(kind="asinh", level=s.level, scale_column=s.scale_column, scale=1.0, columns=cols)
    level, unit = probe.location_scale(X)
    r = (y - level) / unit
    r = r[np.isfinite(r)]
    mad = float(np.median(np.abs(r - np.median(r)))) if len(r) else 1.0
    return replace(probe, scale=mad if mad > 0 else 1.0)


def fit_xgb(train: pd.DataFrame, features: Sequence[str], target: str, time_col: str,
            settings: XGBSettings, until: pd.Timestamp | None = None,
            interval_history: pd.DataFrame | None = None) -> Predictor:
    """Fit one member per window on rows of ``train`` (already restricted to data known at the
    origin). ``until`` is the forecast origin: windows count back from it.

    ``interval_history``: earlier out-of-sample forecasts of this zone with their actuals
    (columns origin, horizon_day, p50, actual, known_at and the interval unit column, e.g. the
    tracked or back-tested forecasts); when it holds enough known errors, p10/p90 come from the
    online conformal band as it stands at ``until`` (:func:`spotcast_storage.intervals.offsets_at`)
    instead of the calibration booster's residuals."""
    features = list(features)
    missing = [c for c in [*features, target, time_col, settings.level] if c not in train.columns]
    if missing:
        raise ValidationError(f"training frame lacks column(s) {missing}")
    rows = labelled_rows(train, target, settings)
    if len(rows) < settings.min_rows:
        raise ValidationError(
            f"only {len(rows)} usable training rows (need {settings.min_rows}); widen the window "
            "or load more history")
    times = pd.DatetimeIndex(rows[time_col])
    end = pd.Timestamp(until) if until is not None else times.max()
    longest = max(settings.windows_days)
    span = rows[times >= end - pd.Timedelta(days=longest)]
    transform = fit_transform(span[target].to_numpy("float64"), span, settings, features)
    params = booster_params(settings)
    members: list[Member] = []
    boosters: list[Any] = []
    for i, w in enumerate(sorted(settings.windows_days)):
        part = rows[times >= end - pd.Timedelta(days=w)]
        if len(part) < settings.min_rows or (members and members[-1].rows == len(part)):
            continue  # too short, or the same rows as the previous (shorter) window: no new member
        boosters.append(_train(part, features, target, transform, params, settings))
        pt = pd.DatetimeIndex(part[time_col])
        members.append(Member(file=f"member-{i:02d}.ubj", window_days=w, rows=len(part),
                              trained_from=pt.min().isoformat(), trained_until=pt.max().isoformat()))
    if not boosters:
        raise ValidationError(f"no window of {list(settings.windows_days)} days has {settings.min_rows} rows")
    residuals: dict[str, Any] = {}
    if settings.objective == "squared" and any(q != 0.5 for q in settings.quantiles):
        residuals = calibrate(rows, times, end, features, target, transform, params, settings)
    if interval_history is not None and residuals:
        residuals.update(history_offsets(interval_history, end, settings, residuals))
    spec = ModelSpec(kind="xgboost", features=features, quantiles=list(settings.quantiles),
                     transform=transform, members=members, combine=settings.combine, target=target,
                     params=params, info={"settings": settings.to_dict()}, **residuals)
    model = Predictor(spec, boosters)
    if settings.linear is not None:
        model = with_linear(model, rows, target, time_col, settings.linear, until=end)
    if settings.dnn is not None:
        model = with_dnn(model, rows, target, time_col, settings.dnn, until=end)
    return model


def labelled_rows(train: pd.DataFrame, target: str, settings: XGBSettings) -> pd.DataFrame:
    """The rows every member trains on: a label and the level the transform needs (a refit of the
    linear members alone, :func:`spotcast_train.builtins.xgboost.recalibrate`, uses the same)."""
    return train[train[target].notna() & train[settings.level].notna()]


def _train(part: pd.DataFrame, features: list[str], target: str, transform: Transform,
           params: dict[str, Any], settings: XGBSettings) -> Any:
    import xgboost as xgb

    level, scale = transform.location_scale(part)
    z = transform.forward(part[target].to_numpy("float64"), level, scale)
    Xt = transform.apply(part[list(dict.fromkeys([*features, *transform.needs]))])[features]
    dm = xgb.QuantileDMatrix(Xt.to_numpy(dtype="float32", na_value=np.nan), label=z,
                             feature_names=features, max_bin=settings.max_bin, nthread=settings.nthread)
    return xgb.train(params, dm, num_boost_round=settings.num_boost_round)


def calibrate(rows: pd.DataFrame, times: pd.DatetimeIndex, end: pd.Timestamp, features: list[str], target: str,
              transform: Transform, params: dict[str, Any], settings: XGBSettings) -> dict[str, Any]:
    """Residual quantiles in units of the transform's scale, measured out of sample: a booster trained on
    the longest window up to ``calibration_days`` before the end forecasts those last days.
    With ``residual_by`` (horizon day), each group gets its own quantiles, since a D+7 forecast
    is less certain than a D+1 one. With ``interval_scale_column`` present in the frame, residuals
    are divided by the row's value of it (:class:`spotcast_storage.boosted.IntervalScale`),
    and prediction multiplies the quantiles back by the row's own value."""
    span_days = (end - times.min()).days
    # short histories (tests, a fresh store) calibrate on their last third rather than not at all
    cal_days = min(settings.calibration_days, max(7, span_days // 3))
    cut = end - pd.Timedelta(days=cal_days)
    known = rows[(times < cut) & (times >= cut - pd.Timedelta(days=max(settings.windows_days)))]
    for col in KNOWN_COLUMNS:
        if col in rows.columns:  # a row may calibrate only if its label was known at the cut
            known = known[known[col] <= cut]
            break
    held = rows[times >= cut]
    if len(known) < settings.min_rows or len(held) < 10:
        return {}
    booster = _train(known, features, target, transform, params, settings)
    probe = Predictor(ModelSpec(kind="xgboost", features=features, quantiles=[0.5], transform=transform,
                                members=[Member(file="calibration.ubj")]), [booster])
    zhat = probe.predict_transformed(held)[:, 0]
    level, scale = transform.location_scale(held)
    err = held[target].to_numpy("float64") - transform.inverse(zhat, level, scale)
    col = settings.interval_scale_column if settings.interval_scale_column in held.columns else None
    iscale = None
    if col:
        iscale = IntervalScale.fit(col, held[col].to_numpy(dtype="float64", na_value=np.nan))
    r = err / (iscale.units(held) if iscale is not None else scale)
    ok = np.isfinite(r)
    names = {q: quantile_column(q) for q in settings.quantiles if q != 0.5}
    out: dict[str, Any] = {"residual_quantiles": {n: conformal_quantile(r[ok], q) for q, n in names.items()},
                           "interval_scale": iscale}
    by = settings.residual_by
    if by and by in held.columns and held[by].nunique() > 1:
        g = held[by].astype("string").to_numpy()
        table = {}
        for v in sorted(set(g[ok])):
            rv = r[ok & (g == v)]
            if len(rv) >= 20:
                table[str(v)] = {n: conformal_quantile(rv, q) for q, n in names.items()}
        out.update(residual_by=by, residual_table=table)
    return out


def history_offsets(history: pd.DataFrame, at: pd.Timestamp, settings: XGBSettings,
                    fitted: dict[str, Any]) -> dict[str, Any]:
    """Residual-table entries from the online band of earlier forecasts at ``at`` (only for the
    outer quantiles p10/p90 and only for groups with enough known errors; the rest keep the
    calibration booster's values)."""
    col = settings.interval_scale_column
    qs = sorted(q for q in settings.quantiles if q != 0.5)
    if col is None or col not in history.columns or len(qs) != 2 or fitted.get("interval_scale") is None:
        return {}
    s = OnlineSettings(window_days=91, lower=qs[0], upper=qs[1])
    h = history.assign(unit=history[col])
    if pd.api.types.is_numeric_dtype(h["horizon_day"]):
        h["horizon_day"] = h["horizon_day"].astype("int64")  # the artifact's groups are "1".."7"
    got = offsets_at(h, at, s)
    if not got:
        return {}
    lo_name, hi_name = quantile_column(qs[0]), quantile_column(qs[1])
    table = {k: dict(v) for k, v in (fitted.get("residual_table") or {}).items()}
    for g, (lo, hi) in got.items():
        table[g] = {lo_name: lo, hi_name: hi}
    return {"residual_by": settings.residual_by or "horizon_day", "residual_table": table}


NON_FEATURES = frozenset({"zone", "origin", "ts", "known_at", "label_known_at"})


def usable_features(frame: pd.DataFrame, candidates: Sequence[str]) -> list[str]:
    """Numeric candidate columns that hold at least one value in ``frame`` (an all-null
    column, e.g. an exogenous series a zone lacks, would only add noise to the artifact)."""
    out = []
    for c in candidates:
        if c in NON_FEATURES or c not in frame.columns:
            continue
        col = frame[c]
        if (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)) and col.notna().any():
            out.append(c)
    return out
