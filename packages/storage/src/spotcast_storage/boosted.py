"""spotcast's own model kinds: XGBoost boosters (``xgboost``), gblinear members (``linear``) and the
naive baseline (``naive``), in the envelope of :mod:`spotcast_storage.modelformat`.

An artifact is a folder::

    spotcast-model.json     metadata (below), the only file a naive model has
    member-00.ubj ...       XGBoost boosters in XGBoost's own UBJSON format (never pickle)

``spotcast-model.json`` holds ``format`` / ``format_version``, ``kind`` (``xgboost`` or
``naive``), the input ``features`` in the order the boosters expect, the ``quantiles``
predicted, the target ``transform``, the ensemble ``members`` (one booster per training
window), the training window and lineage. Serve cannot import train, so everything needed to
turn a feature frame into p10/p50/p90 lives here: :func:`load_predictor` reads the folder
and :class:`Predictor` runs *transform → boosters → inverse transform*. Train predicts
through the same class, so the two cannot disagree.

Transform (the ``asinh`` kind): prices are modelled relative to a per-row level ``L`` (e.g.
yesterday's mean price) and scale ``S`` (a scale column times a constant fitted on the training
window): ``z = asinh((p - L) / S)``. Trees cannot extrapolate a rising price level, but they
can predict a deviation from it; asinh tames spikes the way a log would, yet accepts negative
prices. Every price-valued input listed in ``transform.columns`` is transformed the same way,
and predictions go back through ``p = L + S * sinh(z)``. Boosters trained with a quantile
objective predict each quantile (quantiles survive a monotone transform); boosters with one
output predict the point forecast, and p10/p90 add ``S`` times the stored residual quantiles
(``residual_quantiles``, or ``residual_table`` per value of the ``residual_by`` column); with
``interval_scale`` (:class:`IntervalScale`: ``U = X[column]``, e.g. ``roll7_std``, the recent
price volatility known at the origin) the residual quantiles are in units of ``U`` instead, so
the band widens in volatile weeks and narrows in calm ones rather than one width all year. A naive
model is the same with the identity transform (``S = 1``) and no booster.

Linear members (``linear`` in the metadata, format version 2): a LEAR-style linear model as
XGBoost ``gblinear`` boosters. Per forecast origin and horizon day, :func:`lear_design` pivots the
origin's rows by ``hour`` into one design row (the 24 values of each source column -- e.g. the
prices of d-1, d-2, d-3, d-7 and the exogenous forecasts -- plus weekday dummies); every value
in it comes from the origin's own feature rows, so it is as point-in-time correct as they are.
Each member (one training window, one horizon day) scales every design column by its training
median and MAD, applies asinh, and one 24-output booster predicts the asinh-scaled price of each
hour (``y_center + y_scale * sinh(z)`` back). Members of one horizon day are averaged on the
price scale; the point forecast is then ``(1 - weight) * trees + weight * linear`` for rows the
linear part covers (trees alone elsewhere, e.g. later horizon days), or the linear forecast alone
for ``kind="linear"``. ``member-*.ubj`` and ``linear-*.ubj`` are all XGBoost UBJSON files.

Linear members fitted as published LEAR (``linear.solver == "lear"``, format version 3): the same
design, scaling and averaging, but each member is a plain coefficient matrix in ``linear-*.npy``
(NumPy's own format, read with ``allow_pickle=False``): one row per design column then one row of
intercepts, one column per hour (:class:`LinearCoefficients`). Serve computes them with NumPy
alone, so predicting with such a model needs neither scikit-learn (which fitted them) nor, for
``kind="linear"``, xgboost. They are version 3: a version-2 reader refuses them (as a malformed
artifact: it checks the version only after parsing the parts) rather than mis-reading a ``.npy``;
from this version on, a reader checks the version first and says "upgrade spotcast-storage".

DNN members (``dnn`` in the metadata, format version 4, only in artifacts that have them):
feed-forward networks (``spotcast_train.dnn``'s epftoolbox design, fitted by scikit-learn's
``MLPRegressor``) on the same per-day design, each (window, horizon day) member one or more seeds'
networks sharing one Invariant scaling. Stored as ``.npy`` arrays (``allow_pickle=False``):
``dnn-*-scaler.npy`` (medians and MADs of the scaled design columns and of the 24 target hours) and
one ``dnn-*-s<seed>-l<layer>.npy`` per layer (weights, then the bias as the last row).
:class:`DnnNets` predicts with NumPy alone: ``asinh((x - median) / MAD)`` of every design column
but the weekday dummies, the ReLU forward pass, ``sinh(z) * MAD + median``, the seeds' mean. On
the days the parts cover, the point forecast is ``(1 - w_lin - w_dnn) * trees + w_lin * linear +
w_dnn * dnn`` (:func:`blend_parts`); where a part has no forecast the trees take its weight, so a
row the DNN does not forecast is exactly the two-part blend of the model without it. The DNN's
design fills a single missing hour of a source (a 23-hour DST day) from its neighbours
(:func:`fill_missing_hour`), in training and prediction alike. Artifacts
without a DNN part are written exactly as before (no ``dnn`` key, version 1-3), so version-3
readers load them; a version-3 reader refuses a version-4 artifact with "upgrade spotcast-storage".

xgboost is imported only when a booster is loaded: storage does not depend on it; a stage that
loads xgboost artifacts (train, serve) declares ``xgboost-cpu`` itself.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.modelformat import (
    FORMAT,
    METADATA_FILE,
    _json_default,
    quantile_column,
    read_metadata,
)

FORMAT_VERSION = 4
"""Newest format this module reads and writes. Version 2 added ``linear`` (and ``kind="linear"``);
version 3 linear members stored as coefficients (``linear.solver == "lear"``); version 4 DNN
members (``dnn``). Each artifact is written with the lowest version that describes it (no linear
members: 1; gblinear members: 2; LEAR members: 3; a DNN part: 4), so older readers load whatever
they can."""
KINDS = ("xgboost", "naive", "linear")
LINEAR_SOLVERS = ("gblinear", "lear")
"""How a model's linear members were fitted and are stored: ``gblinear`` (XGBoost boosters,
``.ubj``) or ``lear`` (coefficients from the published LEAR's LassoLarsIC + Lasso, ``.npy``)."""
LINEAR_SUFFIX = {"gblinear": (".ubj", ".json"), "lear": (".npy",)}
CALENDAR_DAYS = 7
COMBINES = ("mean", "median")


@dataclass(frozen=True)
class Transform:
    """``z = asinh((p - L) / S)`` with ``L = X[level]`` and ``S = scale * X[scale_column]``
    (or the constant ``scale`` when ``scale_column`` is None), floored at ``min_scale``.

    ``kind="identity"`` leaves prices untouched (then ``level``/``scale`` are ignored)."""

    kind: str = "asinh"
    level: str | None = "price_lag_1d"
    scale_column: str | None = None
    scale: float = 1.0
    min_scale: float = 1e-3
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("asinh", "identity"):
            raise ValidationError(f"unknown transform kind {self.kind!r}; use 'asinh' or 'identity'")
        if self.kind == "asinh" and not self.level:
            raise ValidationError("an asinh transform needs a level column (e.g. last_day_mean)")
        if not (self.scale > 0 and math.isfinite(self.scale)):
            raise ValidationError(f"transform scale must be a positive number, got {self.scale!r}")

    @property
    def needs(self) -> list[str]:
        """Input columns the transform itself reads."""
        if self.kind == "identity":
            return []
        return [c for c in (self.level, self.scale_column) if c]

    def location_scale(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "identity":
            n = len(X)
            return np.zeros(n), np.ones(n)
        level = X[self.level].to_numpy(dtype="float64", na_value=np.nan)
        if self.scale_column:
            s = self.scale * X[self.scale_column].to_numpy(dtype="float64", na_value=np.nan)
        else:
            s = np.full(len(X), self.scale)
        return level, np.fmax(s, self.min_scale)

    def forward(self, values: np.ndarray, level: np.ndarray, scale: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return np.asarray(values, dtype="float64")
        return np.arcsinh((np.asarray(values, dtype="float64") - level) / scale)

    def inverse(self, z: np.ndarray, level: np.ndarray, scale: np.ndarray) -> np.ndarray:
        if self.kind == "identity":
            return np.asarray(z, dtype="float64")
        return level + scale * np.sinh(np.asarray(z, dtype="float64"))

    def apply(self, X: pd.DataFrame) -> pd.DataFrame:
        """Input frame with every price-valued column in ``columns`` transformed."""
        if self.kind == "identity" or not self.columns:
            return X
        level, scale = self.location_scale(X)
        out = X.copy()
        for c in self.columns:
            if c in out.columns:
                out[c] = self.forward(out[c].to_numpy(dtype="float64", na_value=np.nan), level, scale)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = list(self.columns)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Transform:
        d = dict(d)
        d["columns"] = tuple(d.get("columns") or ())
        return cls(**d)


@dataclass(frozen=True)
class Member:
    """One booster of the ensemble, trained on the last ``window_days`` days before ``trained_until``."""

    file: str
    window_days: int | None = None
    weight: float = 1.0
    rows: int | None = None
    trained_from: str | None = None
    trained_until: str | None = None
    best_iteration: int | None = None


def design_columns(sources: Sequence[str], hours: int = 24, calendar: str | None = "weekday") -> list[str]:
    """Names of the LEAR design's columns: ``<source>_h00`` .. ``<source>_h23`` per source, then
    ``weekday_0`` .. ``weekday_6`` (weekday of the target day, 0 = Monday) when ``calendar``."""
    cols = [f"{c}_h{h:02d}" for c in sources for h in range(hours)]
    if calendar:
        cols += [f"{calendar}_{d}" for d in range(CALENDAR_DAYS)]
    return cols


def lear_design(X: pd.DataFrame, sources: Sequence[str], *, hours: int = 24, calendar: str | None = "weekday",
                time_col: str = "origin", hour_col: str = "hour", horizon_col: str = "horizon_day",
                target: str | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The LEAR design of every (origin, horizon day) in ``X``: one row per key, the ``hours``
    values of each source column side by side (by the rows' ``hour``), then weekday dummies.

    Returns ``keys`` (columns ``time_col``, ``horizon_col``, in sorted order), the design matrix
    (keys x :func:`design_columns`; NaN where an hour is absent, e.g. 02:00 on a 23-hour DST day)
    and, with ``target``, the keys x hours matrix of that column. Where an hour appears twice
    (a 25-hour day) its values are averaged. Only the key's own rows are read: every value of a
    design row is one of that origin's features, known at the origin."""
    missing = [c for c in (time_col, hour_col, horizon_col, *sources, *([calendar] if calendar else []),
                           *([target] if target else [])) if c not in X.columns]
    if missing:
        raise ValidationError(f"the linear model's design needs column(s) {missing} that the input frame lacks")
    hour = X[hour_col].to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(hour) & (hour >= 0) & (hour < hours)
    sub = X[ok]
    hour = hour[ok].astype("int64")
    key_frame = sub[[time_col, horizon_col]]
    codes, uniques = pd.MultiIndex.from_frame(key_frame).factorize(sort=True)
    keys = uniques.to_frame(index=False, name=[time_col, horizon_col])
    n = len(keys)
    cols = list(sources) + ([target] if target else [])
    vals = sub[cols].to_numpy(dtype="float64", na_value=np.nan) if cols else np.empty((len(sub), 0))
    total = np.zeros((n, hours, len(cols)))
    count = np.zeros((n, hours, len(cols)))
    fin = np.isfinite(vals)
    np.add.at(total, (codes, hour), np.where(fin, vals, 0.0))
    np.add.at(count, (codes, hour), fin.astype("float64"))
    with np.errstate(invalid="ignore"):
        cube = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    ns = len(sources)
    design = cube[:, :, :ns].transpose(0, 2, 1).reshape(n, ns * hours)
    if calendar:
        wd = pd.Series(sub[calendar].to_numpy(dtype="float64", na_value=np.nan)).groupby(codes).first()
        dummies = np.zeros((n, CALENDAR_DAYS))
        idx = wd.reindex(range(n)).to_numpy()
        good = np.isfinite(idx)
        dummies[np.flatnonzero(good), idx[good].astype("int64") % CALENDAR_DAYS] = 1.0
        design = np.concatenate([design, dummies], axis=1)
    y = cube[:, :, ns] if target else None
    return keys, design, y


def fill_missing_hour(design: np.ndarray, sources: int, hours: int = 24) -> np.ndarray:
    """:func:`lear_design` rows with a single missing hour of a source filled: where exactly one of a
    source's ``hours`` values is NaN, it becomes the mean of its neighbouring hours (the one
    neighbour at the day's edge), whatever the cause: 02:00 of a 23-hour DST day has no row, and a
    single missing hour on another day is filled the same way. A source missing two hours or more
    stays NaN: a data gap, which gets no forecast from a network rather than a guess. The DNN part
    uses it in training and prediction alike (a network has no rule for a missing input, so without
    it a 23-hour day had no DNN forecast); weekday dummies are untouched."""
    out = np.array(design, dtype="float64", copy=True)
    if hours < 2 or sources < 1 or not len(out):
        return out
    block = out[:, :sources * hours].reshape(len(out), sources, hours)  # a view into out
    gap = np.isnan(block)
    row, src = np.nonzero(gap.sum(axis=2) == 1)
    if not len(row):
        return out
    h = gap[row, src].argmax(axis=1)
    left = np.where(h > 0, block[row, src, np.maximum(h - 1, 0)], np.nan)
    right = np.where(h < hours - 1, block[row, src, np.minimum(h + 1, hours - 1)], np.nan)
    block[row, src, h] = np.where(np.isnan(left), right, np.where(np.isnan(right), left, (left + right) / 2))
    return out


@dataclass(frozen=True)
class LinearMember:
    """One gblinear booster: one training window, one horizon day, ``hours`` outputs.

    ``x_center``/``x_scale``: median and MAD of each scaled design column (the source columns;
    weekday dummies stay 0/1) on the training days; ``y_center``/``y_scale`` the same per hour of
    the target. ``weight``: how many of the requested windows this booster stands for (windows
    that held the same training days share one booster)."""

    file: str
    window_days: int | None = None
    horizon_day: int = 1
    weight: float = 1.0
    rows: int | None = None
    trained_from: str | None = None
    trained_until: str | None = None
    x_center: list[float] = field(default_factory=list)
    x_scale: list[float] = field(default_factory=list)
    y_center: list[float] = field(default_factory=list)
    y_scale: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class LinearCoefficients:
    """A linear member stored as numbers (``solver="lear"``): ``coef`` (design columns x hours) and
    ``intercept`` (hours), on the member's scaled design and asinh-scaled target. It stands where a
    gblinear booster stands in :class:`Predictor`'s ``linear_boosters``, and predicts with NumPy
    alone, so loading it never imports the library that fitted it."""

    coef: np.ndarray
    intercept: np.ndarray

    def __post_init__(self) -> None:
        c, i = np.asarray(self.coef), np.asarray(self.intercept)
        if c.ndim != 2 or i.shape != (c.shape[1],):
            raise ValidationError(f"linear coefficients must be (columns, hours) with one intercept per hour, got "
                                  f"{c.shape} and {i.shape}")
        if not (np.isfinite(c).all() and np.isfinite(i).all()):
            raise ValidationError("linear coefficients hold a non-finite value; refit the model")

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """(rows, hours) on the asinh-scaled target; a row with a missing input is NaN throughout
        (a LASSO has no rule for a missing value; the trees then forecast that day alone)."""
        return np.asarray(Z, dtype="float64") @ np.asarray(self.coef, dtype="float64") + np.asarray(self.intercept)

    def save_model(self, path: str) -> None:
        """One ``.npy`` file: the coefficient rows, then the intercepts as the last row (float64, exact)."""
        arr = np.vstack([np.asarray(self.coef, dtype="float64"), np.asarray(self.intercept, dtype="float64")])
        with open(path, "wb") as f:
            np.save(f, arr, allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], columns: int, hours: int) -> LinearCoefficients:
        """Read what :meth:`save_model` wrote, checking it fits the design (``columns`` x ``hours``),
        holds finite numbers, and (header first) that a damaged header is an error, not a MemoryError."""
        arr = _load_array(path, "linear member", (columns + 1, hours),
                          f"the design needs ({columns + 1}, {hours}) (coefficients and an intercept row)")
        return cls(arr[:-1], arr[-1])


@dataclass
class LinearPart:
    """The linear members of a model and how they combine with the trees."""

    sources: list[str]
    members: list[LinearMember] = field(default_factory=list)
    weight: float = 0.5
    hours: int = 24
    calendar: str | None = "weekday"
    time_col: str = "origin"
    hour_col: str = "hour"
    horizon_col: str = "horizon_day"
    params: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    solver: str = "gblinear"
    """One of :data:`LINEAR_SOLVERS`; artifacts written before solvers existed are gblinear."""

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.weight) <= 1.0:
            raise ValidationError(f"linear weight must be in [0, 1], got {self.weight!r}")
        if self.solver not in LINEAR_SOLVERS:
            raise ValidationError(f"unknown linear solver {self.solver!r}; known: {', '.join(LINEAR_SOLVERS)}")
        if not self.members:
            raise ValidationError("a linear part needs at least one member booster")
        width = len(self.sources) * self.hours
        for m in self.members:
            if len(m.x_center) != width or len(m.x_scale) != width:
                raise ValidationError(f"linear member {m.file}: {len(m.x_center)} column scalings for "
                                      f"{width} design columns")
            if len(m.y_center) != self.hours or len(m.y_scale) != self.hours:
                raise ValidationError(f"linear member {m.file}: target scaling must have {self.hours} hours")
            _check_file(m.file, LINEAR_SUFFIX[self.solver])

    @property
    def columns(self) -> list[str]:
        return design_columns(self.sources, self.hours, self.calendar)

    @property
    def inputs(self) -> list[str]:
        return _design_inputs(self)

    @property
    def horizon_days(self) -> list[int]:
        return sorted({int(m.horizon_day) for m in self.members})

    def to_dict(self) -> dict[str, Any]:
        # the key only where it says something: version-2 readers build LinearPart(**d) and would
        # refuse an unknown "solver" key in the default (gblinear) model's metadata
        return {"sources": list(self.sources), **({"solver": self.solver} if self.solver != "gblinear" else {}),
                "weight": float(self.weight), "hours": self.hours,
                "calendar": self.calendar, "time_col": self.time_col, "hour_col": self.hour_col,
                "horizon_col": self.horizon_col, "columns": self.columns,
                "members": [m.to_dict() for m in self.members], "params": self.params, "info": self.info}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinearPart:
        d = dict(d)
        d.pop("columns", None)
        d["members"] = [LinearMember(**m) for m in d.get("members") or []]
        return cls(**d)

    def scale_design(self, design: np.ndarray, m: LinearMember) -> np.ndarray:
        """The member's booster input: asinh of the median/MAD-scaled source columns, dummies as is."""
        width = len(self.sources) * self.hours
        out = np.array(design, dtype="float64", copy=True)
        out[:, :width] = np.arcsinh((out[:, :width] - np.asarray(m.x_center)) / np.asarray(m.x_scale))
        return out

    def predict_days(self, design: np.ndarray, keys: pd.DataFrame, boosters: Sequence[Any]) -> np.ndarray:
        """(keys, hours) price forecasts: the weighted mean of the members of each key's horizon
        day, NaN for keys whose horizon day has no member."""
        out = np.full((len(keys), self.hours), np.nan)
        hd = keys[self.horizon_col].to_numpy(dtype="int64")
        for day in self.horizon_days:
            rows = np.flatnonzero(hd == day)
            if not len(rows):
                continue
            acc = np.zeros((len(rows), self.hours))
            wsum = 0.0
            for m, b in zip(self.members, boosters, strict=True):
                if int(m.horizon_day) != day:
                    continue
                z = _predict_linear(b, self.scale_design(design[rows], m)).reshape(len(rows), self.hours)
                acc += m.weight * (np.asarray(m.y_center) + np.asarray(m.y_scale) * np.sinh(z))
                wsum += m.weight
            out[rows] = acc / wsum
        return out

    def predict_rows(self, X: pd.DataFrame, boosters: Sequence[Any]) -> np.ndarray:
        """Per row of ``X``: the linear forecast of its (origin, horizon day, hour), NaN where the
        linear part does not cover it."""
        return _per_day_rows(self, X, lambda design, keys: self.predict_days(design, keys, boosters))


def _per_day_rows(part: LinearPart | DnnPart, X: pd.DataFrame,
                  predict_days: Callable[[np.ndarray, pd.DataFrame], np.ndarray]) -> np.ndarray:
    """Per row of ``X``: the part's forecast of its (origin, horizon day, hour) from the
    (keys, hours) forecasts ``predict_days`` makes of :func:`lear_design`'s rows; NaN where the
    part does not cover the row. Shared by the linear and the DNN part (same design, same rows)."""
    out = np.full(len(X), np.nan)
    hd = pd.to_numeric(X[part.horizon_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    hour = pd.to_numeric(X[part.hour_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    take = np.isin(hd, part.horizon_days) & np.isfinite(hour) & (hour >= 0) & (hour < part.hours)
    if not take.any():
        return out
    sub = X[take]
    keys, design, _ = lear_design(sub, part.sources, hours=part.hours, calendar=part.calendar,
                                  time_col=part.time_col, hour_col=part.hour_col, horizon_col=part.horizon_col)
    days = predict_days(design, keys)
    codes = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(sub[[part.time_col, part.horizon_col]]))
    out[np.flatnonzero(take)] = days[codes, hour[take].astype("int64")]
    return out


def _design_inputs(part: LinearPart | DnnPart) -> list[str]:
    cols = [part.time_col, part.horizon_col, part.hour_col, *part.sources]
    if part.calendar:
        cols.append(part.calendar)
    return list(dict.fromkeys(cols))


def _load_array(path: str | os.PathLike[str], what: str, shape: tuple[int | None, ...] | None = None,
                needs: str = "") -> np.ndarray:
    """A ``.npy`` file as a finite float64 array, or a :class:`ValidationError` that names the file
    and says to refit (an empty, truncated or pickled file is never guessed at).

    The header is read first and checked before any data is: a number dtype, the ``shape``
    expected (None: any length on that axis; ``needs`` says what the design needs), and exactly the
    bytes the header promises left in the file. Why: ``np.load`` allocates what a damaged header
    claims, so a header saying (10**6, 10**6) raised an uncaught MemoryError instead of an error."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as fh:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                got, _, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                got, _, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version[0]}.{version[1]}, where 1.0 or 2.0 is written")
            if dtype.hasobject:
                raise ValueError("it holds Python objects, which are never unpickled")
            if dtype.kind not in "fiu":
                raise ValidationError(f"{what} file {path} does not hold numbers ({dtype}); refit the model")
            if shape is not None and (len(got) != len(shape)
                                      or any(e is not None and g != e for g, e in zip(got, shape, strict=False))):
                want = "(" + ", ".join("n" if e is None else str(e) for e in shape) + ("," if len(shape) == 1 else "") + ")"
                raise ValidationError(f"{what} file {path} holds a {tuple(got)} array; {needs or f'expected {want}'}; "
                                      "refit the model")
            promised = math.prod(got) * dtype.itemsize
            left = os.fstat(fh.fileno()).st_size - fh.tell()
            if left != promised:
                raise ValueError(f"its header promises a {tuple(got)} {dtype} array ({promised} bytes) but {left} "
                                 "bytes follow: truncated or damaged")
            fh.seek(0)
            arr = fmt.read_array(fh, allow_pickle=False)
    except ValidationError:
        raise
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise ValidationError(f"{what} file {path} is not a plain NumPy array ({exc}); refit the model") from None
    arr = np.asarray(arr, dtype="float64")
    if not np.isfinite(arr).all():
        raise ValidationError(f"{what} file {path} holds a non-finite value; refit the model")
    return arr


def _predict_linear(booster: Any, Z: np.ndarray) -> np.ndarray:
    if isinstance(booster, LinearCoefficients):
        return booster.predict(Z)
    import xgboost as xgb

    return np.asarray(booster.predict(xgb.DMatrix(Z.astype("float32"), missing=np.nan)), dtype="float64")


def _check_file(name: str, suffixes: tuple[str, ...] = (".ubj", ".json")) -> None:
    if not name.endswith(suffixes) or "/" in name or "\\" in name:
        raise ValidationError(f"member file {name!r} must be a plain {' or '.join(suffixes)} file name")


DNN_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "identity": lambda a: a,
}
"""Hidden-layer activations a stored network may use (scikit-learn's ``MLPRegressor`` names); the
output layer is the identity, as a regressor's is."""


@dataclass(frozen=True, eq=False)
class DnnNetwork:
    """One fitted feed-forward network as numbers: ``weights[i]`` (fan-in x fan-out) and
    ``biases[i]`` (fan-out) per layer, ``activation`` between layers, identity output. It predicts
    with NumPy alone, exactly as scikit-learn's ``MLPRegressor.predict`` does (tested to 1e-10),
    so serving a model with DNN members never imports the library that trained them."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in DNN_ACTIVATIONS:
            raise ValidationError(f"DNN activation {self.activation!r}: use one of {', '.join(DNN_ACTIVATIONS)}")
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValidationError(f"a DNN needs one bias per weight matrix and at least one layer, got "
                                  f"{len(self.weights)} weight matrices and {len(self.biases)} biases")
        fan_in = None
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            w, b = np.asarray(w), np.asarray(b)
            if w.ndim != 2 or b.shape != (w.shape[1],) or (fan_in is not None and w.shape[0] != fan_in):
                raise ValidationError(f"DNN layer {i}: weights {w.shape} and bias {b.shape} do not chain "
                                      f"(expected ({fan_in if fan_in is not None else 'inputs'}, n) and (n,))")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValidationError(f"DNN layer {i} holds a non-finite value; refit the model")
            fan_in = w.shape[1]

    @property
    def inputs(self) -> int:
        return int(np.asarray(self.weights[0]).shape[0])

    @property
    def outputs(self) -> int:
        return int(np.asarray(self.weights[-1]).shape[1])

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """(rows, outputs) on the network's (scaled) target; a row with a missing input is NaN
        throughout (NaN passes through every layer)."""
        a = np.asarray(Z, dtype="float64")
        act = DNN_ACTIVATIONS[self.activation]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            a = a @ np.asarray(w, dtype="float64") + np.asarray(b, dtype="float64")
            if i < last:
                a = act(a)
        return a

    def layer_arrays(self) -> list[np.ndarray]:
        """Each layer as one array: the weight rows, then the bias as the last row (float64)."""
        return [np.vstack([np.asarray(w, dtype="float64"), np.asarray(b, dtype="float64")])
                for w, b in zip(self.weights, self.biases, strict=True)]

    @classmethod
    def from_layer_arrays(cls, arrays: Sequence[np.ndarray], activation: str = "relu") -> DnnNetwork:
        bad = [a.shape for a in arrays if a.ndim != 2 or a.shape[0] < 2]
        if bad:
            raise ValidationError(f"DNN layer arrays must be (fan-in + 1, fan-out), got {bad}; refit the model")
        return cls(tuple(a[:-1] for a in arrays), tuple(a[-1] for a in arrays), activation)


@dataclass(frozen=True)
class DnnMember:
    """One (training window, horizon day) of the DNN part: networks of several seeds on the same
    scaled design, their forecasts averaged on the price scale (as ``spotcast_train.dnn.DnnModel``).

    ``scaler``: the ``.npy`` file of the Invariant scaling (row 0 the medians, row 1 the MADs: the
    design's scaled columns, then the target's hours); ``nets``: per seed, its layers' ``.npy``
    files (:meth:`DnnNetwork.layer_arrays`)."""

    scaler: str
    nets: list[list[str]]
    seeds: list[int] = field(default_factory=list)
    window_days: int | None = None
    horizon_day: int = 1
    weight: float = 1.0
    rows: int | None = None
    trained_from: str | None = None
    trained_until: str | None = None

    @property
    def files(self) -> list[str]:
        return [self.scaler, *(f for net in self.nets for f in net)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class DnnNets:
    """A :class:`DnnMember`'s numbers: the Invariant scaling of the design (``x_center``,
    ``x_scale``: every column but the weekday dummies) and of the target (``y_center``,
    ``y_scale``), and one :class:`DnnNetwork` per seed."""

    x_center: np.ndarray
    x_scale: np.ndarray
    y_center: np.ndarray
    y_scale: np.ndarray
    nets: tuple[DnnNetwork, ...]

    def __post_init__(self) -> None:
        if not self.nets:
            raise ValidationError("a DNN member needs at least one network")
        if np.shape(self.x_center) != np.shape(self.x_scale) or np.shape(self.y_center) != np.shape(self.y_scale):
            raise ValidationError("DNN scaling: centres and scales must have the same length")
        for a in (self.x_center, self.x_scale, self.y_center, self.y_scale):
            if not np.isfinite(a).all():
                raise ValidationError("DNN scaling holds a non-finite value; refit the model")
        if (np.asarray(self.x_scale) <= 0).any() or (np.asarray(self.y_scale) <= 0).any():
            raise ValidationError("DNN scaling: every scale must be positive; refit the model")
        shapes = {(n.inputs, n.outputs) for n in self.nets}
        if len(shapes) != 1 or next(iter(shapes))[1] != len(self.y_center):
            raise ValidationError(f"DNN member: networks of shapes {sorted(shapes)} for {len(self.y_center)} "
                                  "target hours")

    def predict(self, design: np.ndarray) -> np.ndarray:
        """(rows, hours) prices: scale the design (``asinh((x - median) / MAD)``, dummies as they
        are), run each network, undo the target's scaling (``sinh(z) * MAD + median``), average."""
        Z = np.array(design, dtype="float64", copy=True)
        k = len(self.x_center)
        Z[:, :k] = np.arcsinh((Z[:, :k] - np.asarray(self.x_center)) / np.asarray(self.x_scale))
        outs = [np.sinh(n.predict(Z)) * np.asarray(self.y_scale) + np.asarray(self.y_center) for n in self.nets]
        return np.mean(outs, axis=0)

    def save(self, folder: Path, member: DnnMember) -> None:
        """Write the member's ``.npy`` files (NumPy's own format, float64, no pickle)."""
        if len(member.nets) != len(self.nets) or any(len(f) != len(n.weights)
                                                     for f, n in zip(member.nets, self.nets, strict=True)):
            raise ValidationError(f"DNN member {member.scaler}: {len(member.nets)} file lists for "
                                  f"{len(self.nets)} networks (one file per layer)")
        scaler = np.vstack([np.concatenate([self.x_center, self.y_center]),
                            np.concatenate([self.x_scale, self.y_scale])]).astype("float64")
        arrays = [(member.scaler, scaler), *((f, a) for files, n in zip(member.nets, self.nets, strict=True)
                                             for f, a in zip(files, n.layer_arrays(), strict=True))]
        for name, arr in arrays:
            with open(folder / name, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, member: DnnMember, part: DnnPart) -> DnnNets:
        """Read what :meth:`save` wrote, checking every array fits the part's design."""
        width = part.scaled_columns
        scaler = _load_array(_member_file(folder, member.scaler, "DNN scaler"), "DNN scaler", (2, width + part.hours),
                             f"the design needs (2, {width + part.hours}) (medians and MADs of {width} design "
                             f"columns and {part.hours} hours)")
        nets = []
        for files in member.nets:
            last = len(files) - 1
            arrays = [_load_array(_member_file(folder, f, "DNN layer"), "DNN layer",
                                  (len(part.columns) + 1 if i == 0 else None, part.hours if i == last else None),
                                  f"layer {i} of {len(files)} must be (fan-in + 1, fan-out)"
                                  + (f" with fan-in {len(part.columns)}, the design's columns" if i == 0 else "")
                                  + (f" and fan-out {part.hours}, the hours" if i == last else ""))
                      for i, f in enumerate(files)]
            try:
                nets.append(DnnNetwork.from_layer_arrays(arrays, part.activation))
            except ValidationError as exc:  # e.g. layers that do not chain: say which files, and what to do
                why = str(exc).removesuffix("; refit the model")
                raise ValidationError(f"DNN network files {', '.join(files)} in {folder}: {why}; refit the model") \
                    from None
        out = cls(scaler[0, :width], scaler[1, :width], scaler[0, width:], scaler[1, width:], tuple(nets))
        part.check_member(member, out)
        return out


@dataclass
class DnnPart:
    """The DNN members of a model (format version 4): on the same per-day design as the linear
    part (:func:`lear_design`), blended with the trees (and the linear part) by ``weight``."""

    sources: list[str]
    members: list[DnnMember] = field(default_factory=list)
    weight: float = 0.2
    hours: int = 24
    calendar: str | None = "weekday"
    time_col: str = "origin"
    hour_col: str = "hour"
    horizon_col: str = "horizon_day"
    activation: str = "relu"
    params: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_blend_weights({"DNN": self.weight})
        if self.activation not in DNN_ACTIVATIONS:
            raise ValidationError(f"DNN activation {self.activation!r}: use one of {', '.join(DNN_ACTIVATIONS)}")
        if not self.members:
            raise ValidationError("a DNN part needs at least one member")
        for m in self.members:
            if not m.nets or any(not files for files in m.nets):
                raise ValidationError(f"DNN member {m.scaler}: every network needs its layer files")
            for f in m.files:
                _check_file(f, (".npy",))

    def check_nets(self, nets: Sequence[Any]) -> None:
        """That ``nets`` (one :class:`DnnNets` per member) fit this part: as many networks and layer
        file lists as each member names, inputs = the design's columns, outputs = ``hours``, scaling
        of the scaled columns and the hours. :class:`Predictor` (in memory), :func:`save_artifact`
        (before anything is written) and :meth:`DnnNets.load` all check with this, so a model that
        cannot predict is never built, saved or loaded; a mismatch is a clear error, not a NumPy one."""
        if len(nets) != len(self.members) or not all(isinstance(n, DnnNets) for n in nets):
            raise ValidationError(f"model has {len(self.members)} DNN members but {len(nets)} DnnNets were given")
        for m, n in zip(self.members, nets, strict=True):
            self.check_member(m, n)

    def check_member(self, member: DnnMember, nets: DnnNets) -> None:
        """One member's part of :meth:`check_nets`."""
        layers = [len(net.weights) for net in nets.nets]
        if [len(files) for files in member.nets] != layers:
            raise ValidationError(f"DNN member {member.scaler}: layer file lists of lengths "
                                  f"{[len(files) for files in member.nets]} for networks of {layers} layers (one "
                                  "file per layer of each network); refit the model")
        if len(nets.x_center) != self.scaled_columns or len(nets.y_center) != self.hours:
            raise ValidationError(f"DNN member {member.scaler}: a scaling of {len(nets.x_center)} design columns and "
                                  f"{len(nets.y_center)} hours; the part's design has {self.scaled_columns} scaled "
                                  f"columns and {self.hours} hours; refit the model")
        for files, net in zip(member.nets, nets.nets, strict=True):
            if (net.inputs, net.outputs) != (len(self.columns), self.hours):
                raise ValidationError(f"DNN network {files[0]}..{files[-1]} takes {net.inputs} inputs and gives "
                                      f"{net.outputs} outputs; the part's design has {len(self.columns)} columns "
                                      f"and {self.hours} hours; refit the model")

    @property
    def columns(self) -> list[str]:
        return design_columns(self.sources, self.hours, self.calendar)

    @property
    def scaled_columns(self) -> int:
        """Design columns the Invariant scaling covers: all but the weekday dummies."""
        return len(self.sources) * self.hours

    @property
    def inputs(self) -> list[str]:
        return _design_inputs(self)

    @property
    def horizon_days(self) -> list[int]:
        return sorted({int(m.horizon_day) for m in self.members})

    def to_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "weight": float(self.weight), "hours": self.hours,
                "calendar": self.calendar, "time_col": self.time_col, "hour_col": self.hour_col,
                "horizon_col": self.horizon_col, "activation": self.activation, "columns": self.columns,
                "members": [m.to_dict() for m in self.members], "params": self.params, "info": self.info}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DnnPart:
        d = dict(d)
        d.pop("columns", None)
        d["members"] = [DnnMember(**m) for m in d.get("members") or []]
        return cls(**d)

    def predict_days(self, design: np.ndarray, keys: pd.DataFrame, nets: Sequence[DnnNets]) -> np.ndarray:
        """(keys, hours) price forecasts: the weighted mean of the members of each key's horizon
        day, NaN for keys whose horizon day has no member (or whose design has a missing value after
        :func:`fill_missing_hour`, which training applied too)."""
        design = fill_missing_hour(design, len(self.sources), self.hours)
        out = np.full((len(keys), self.hours), np.nan)
        hd = keys[self.horizon_col].to_numpy(dtype="int64")
        for day in self.horizon_days:
            rows = np.flatnonzero(hd == day)
            if not len(rows):
                continue
            pairs = [(m, n) for m, n in zip(self.members, nets, strict=True) if int(m.horizon_day) == day]
            wsum = sum(m.weight for m, _ in pairs)
            out[rows] = sum(m.weight * n.predict(design[rows]) for m, n in pairs) / wsum
        return out

    def predict_rows(self, X: pd.DataFrame, nets: Sequence[DnnNets]) -> np.ndarray:
        """Per row of ``X``: the DNN forecast of its (origin, horizon day, hour), NaN where the part
        does not cover it."""
        return _per_day_rows(self, X, lambda design, keys: self.predict_days(design, keys, nets))


def check_blend_weights(weights: Mapping[str, Any]) -> None:
    """The one check of a blend's weights, by part name (e.g. ``{"linear": 0.4, "DNN": 0.2}``; None:
    no such part): each a number from 0 to 1 and together at most 1, since the trees keep 1 minus
    their sum. Used by the DNN settings (train), :class:`DnnPart`, :class:`ModelSpec` and
    :func:`blend_parts`, so a weight that cannot blend gets the same message wherever it is found."""
    given = {name: w for name, w in weights.items() if w is not None}
    for name, w in given.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0.0 <= float(w) <= 1.0:
            raise ValidationError(f"{name} weight {w!r}: give a number from 0 to 1 (the trees keep 1 minus the "
                                  "linear and DNN weights)")
    if sum(float(w) for w in given.values()) > 1.0 + 1e-12:
        parts = " plus ".join(f"{name} weight {float(w):g}" for name, w in given.items())
        raise ValidationError(f"{parts} is more than 1: the trees keep 1 minus their sum; lower one of them "
                              "(--dnn-weight, or --no-linear)")


def blend(trees: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * trees + weight * linear`` where the linear forecast exists, trees elsewhere."""
    trees = np.asarray(trees, dtype="float64")
    linear = np.asarray(linear, dtype="float64")
    return np.where(np.isfinite(linear), (1.0 - weight) * trees + weight * linear, trees)


def blend_parts(trees: np.ndarray, parts: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """The point forecast of trees and several parts (``(forecast, weight)`` pairs, e.g. the linear
    and the DNN part): ``(1 - sum(w)) * trees + sum(w_k * part_k)`` over the parts that have a
    forecast for the row; the trees take the weight of a part that has none (a horizon day or DST
    day it does not cover). So a part never changes a row it does not forecast: where the DNN part is
    absent the row is exactly :func:`blend` of trees and linear (the model without a DNN part), where
    the linear part is absent it is :func:`blend` of trees and DNN, and trees alone where neither is.
    (Renormalising the present weights instead moved a 23-hour day's forecast away from both the
    3-way and the no-DNN blend.)"""
    trees = np.asarray(trees, dtype="float64")
    check_blend_weights({f"part {i + 1}": w for i, (_, w) in enumerate(parts)})
    weights = [float(w) for _, w in parts]
    forecasts = [np.asarray(f, dtype="float64") for f, _ in parts]
    present = np.zeros(trees.shape)
    for forecast, w in zip(forecasts, weights, strict=True):
        present = present + np.where(np.isfinite(forecast), w, 0.0)
    out = (1.0 - present) * trees  # the same arithmetic as blend(), so a one-part row equals it bit for bit
    for forecast, w in zip(forecasts, weights, strict=True):
        there = np.isfinite(forecast)
        out = out + np.where(there, w * np.where(there, forecast, 0.0), 0.0)
    return out


INTERVAL_UNIT = "roll7_std"
"""The interval unit train's models are fitted with and serve's data-quality fallback uses: the
7-day price std beat the 28-day one on every backtest (benchmarks/README.md, "intervals")."""


@dataclass(frozen=True)
class IntervalScale:
    """The unit of the residual quantiles per row: ``X[column]`` (e.g. ``roll7_std``, the recent
    price volatility known at the origin), or ``typical`` (its median on the calibration rows)
    where a row lacks it. Calibration (train) and prediction (serve) both call :meth:`units`, so
    the two cannot disagree. A fitted ``intercept + slope * column`` was tried and was worse: a
    91-day calibration window rarely spans enough volatility to fit a slope (benchmarks/README.md,
    "intervals")."""

    column: str
    typical: float

    def units(self, X: pd.DataFrame) -> np.ndarray:
        v = pd.to_numeric(X[self.column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isfinite(v) & (v > 0), v, self.typical)

    @classmethod
    def fit(cls, column: str, x: np.ndarray) -> IntervalScale | None:
        """None when no calibration row has a positive value (the model then keeps one width)."""
        x = np.asarray(x, dtype="float64")
        good = x[np.isfinite(x) & (x > 0)]
        return cls(column, float(np.median(good))) if len(good) else None


@dataclass
class ModelSpec:
    """Everything in ``spotcast-model.json``."""

    kind: str
    features: list[str]
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    transform: Transform = field(default_factory=lambda: Transform(kind="identity"))
    members: list[Member] = field(default_factory=list)
    combine: str = "mean"
    target: str = "target_price_eur_mwh"
    naive_column: str | None = None
    residual_quantiles: dict[str, float] = field(default_factory=dict)
    residual_by: str | None = None
    residual_table: dict[str, dict[str, float]] = field(default_factory=dict)
    interval_scale: IntervalScale | None = None
    training_window: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    linear: LinearPart | None = None
    dnn: DnnPart | None = None
    """DNN members beside the trees (format version 4); None in every artifact before them."""
    format: str = FORMAT
    format_version: int = 1

    def __post_init__(self) -> None:
        self.validate()

    @property
    def outputs(self) -> list[str]:
        return [quantile_column(q) for q in self.quantiles]

    @property
    def inputs(self) -> list[str]:
        """Every column ``predict`` needs: booster features, transform inputs, naive column."""
        cols = list(self.features) + self.transform.needs
        if self.naive_column:
            cols.append(self.naive_column)
        if self.residual_by:
            cols.append(self.residual_by)
        if self.interval_scale is not None:
            cols.append(self.interval_scale.column)
        if self.linear is not None:
            cols += self.linear.inputs
        if self.dnn is not None:
            cols += self.dnn.inputs
        return list(dict.fromkeys(cols))

    def validate(self) -> None:
        if self.format != FORMAT:
            raise ValidationError(f"not a spotcast model: format is {self.format!r}, expected {FORMAT!r}")
        if self.format_version > FORMAT_VERSION:
            raise ValidationError(
                f"model format version {self.format_version} is newer than this spotcast-storage "
                f"understands ({FORMAT_VERSION}); upgrade spotcast-storage")
        if self.kind not in KINDS:
            raise ValidationError(f"unknown model kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if self.combine not in COMBINES:
            raise ValidationError(f"unknown combine {self.combine!r}; use one of {', '.join(COMBINES)}")
        qs = list(self.quantiles)
        if not qs or any(not 0 < q < 1 for q in qs) or qs != sorted(set(qs)):
            raise ValidationError(f"quantiles must be increasing numbers in (0, 1), got {qs}")
        if 0.5 not in qs:
            raise ValidationError(f"quantiles must include the median 0.5 (the point forecast), got {qs}")
        if self.kind == "xgboost" and not self.members:
            raise ValidationError("an xgboost model needs at least one member booster")
        if self.kind == "naive" and not self.naive_column:
            raise ValidationError("a naive model needs naive_column (e.g. price_lag_7d)")
        if self.kind == "linear" and self.linear is None:
            raise ValidationError("a linear model needs a linear part with at least one member")
        if self.linear is not None and self.kind == "naive":
            raise ValidationError("a naive model cannot have linear members")
        if self.dnn is not None:
            if self.kind != "xgboost":
                raise ValidationError(f"DNN members sit beside the trees of an xgboost model, not in a {self.kind!r} one")
            check_blend_weights({"linear": self.linear.weight if self.linear is not None else None,
                                 "DNN": self.dnn.weight})

    @property
    def written_version(self) -> int:
        """The lowest format version that holds this spec (see :data:`FORMAT_VERSION`)."""
        if self.dnn is not None:
            return max(self.format_version, 4)
        if self.linear is None:
            return self.format_version
        return max(self.format_version, 3 if self.linear.solver == "lear" else 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "format_version": self.written_version,
            "kind": self.kind,
            "target": self.target, "features": list(self.features), "quantiles": list(self.quantiles),
            "outputs": self.outputs, "transform": self.transform.to_dict(),
            "members": [asdict(m) for m in self.members], "combine": self.combine,
            "naive_column": self.naive_column, "residual_quantiles": dict(self.residual_quantiles),
            "residual_by": self.residual_by, "residual_table": dict(self.residual_table),
            **({"interval_scale": asdict(self.interval_scale)} if self.interval_scale is not None else {}),
            "training_window": self.training_window, "lineage": self.lineage,
            "params": self.params, "info": self.info,
            **({"linear": self.linear.to_dict()} if self.linear is not None else {}),
            # only where there is one: version-3 readers build ModelSpec(**d) from these keys
            **({"dnn": self.dnn.to_dict()} if self.dnn is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSpec:
        d = dict(d)
        d.pop("outputs", None)
        if d.get("format") != FORMAT:
            raise ValidationError(f"not a spotcast model: format is {d.get('format')!r}, expected {FORMAT!r}")
        version = d.get("format_version", 1)
        if isinstance(version, int) and version > FORMAT_VERSION:  # before parsing parts a newer version may change
            raise ValidationError(f"model format version {version} is newer than this spotcast-storage "
                                  f"understands ({FORMAT_VERSION}); upgrade spotcast-storage")
        try:
            d["transform"] = Transform.from_dict(d.get("transform") or {"kind": "identity"})
            d["members"] = [Member(**m) for m in d.get("members") or []]
            if d.get("linear") is not None:
                d["linear"] = LinearPart.from_dict(d["linear"])
            if d.get("dnn") is not None:
                d["dnn"] = DnnPart.from_dict(d["dnn"])
            if d.get("interval_scale") is not None:
                d["interval_scale"] = IntervalScale(**d["interval_scale"])
            return cls(**d)
        except TypeError as exc:
            raise ValidationError(f"malformed {METADATA_FILE}: {exc}") from None

class Predictor:
    """Turns a feature frame into quantile forecasts: transform → boosters → inverse transform.

    ``boosters`` are ``xgboost.Booster`` objects in ``spec.members`` order (none for naive
    models); ``linear_boosters`` one per linear member: ``xgboost.Booster`` (gblinear) or
    :class:`LinearCoefficients` (``solver="lear"``); ``dnn_nets`` one :class:`DnnNets` per DNN
    member. Build it with :func:`load_predictor` from a folder, or directly from boosters
    in memory (what training does before it saves)."""

    def __init__(self, spec: ModelSpec, boosters: Sequence[Any] = (), linear_boosters: Sequence[Any] = (),
                 dnn_nets: Sequence[DnnNets] = ()) -> None:
        if spec.kind == "xgboost" and len(boosters) != len(spec.members):
            raise ValidationError(f"model has {len(spec.members)} members but {len(boosters)} boosters were given")
        n_lin = len(spec.linear.members) if spec.linear is not None else 0
        if len(linear_boosters) != n_lin:
            raise ValidationError(f"model has {n_lin} linear members but {len(linear_boosters)} linear boosters "
                                  "were given")
        _check_dnn_nets(spec, dnn_nets)
        self.spec = spec
        self.boosters = list(boosters)
        self.linear_boosters = list(linear_boosters)
        self.dnn_nets = list(dnn_nets)

    @property
    def features(self) -> list[str]:
        return list(self.spec.features)

    @property
    def outputs(self) -> list[str]:
        return self.spec.outputs

    def check_inputs(self, X: pd.DataFrame) -> None:
        missing = [c for c in self.spec.inputs if c not in X.columns]
        if missing:
            raise ValidationError(
                f"the model needs column(s) {missing} that the input frame lacks; it was trained on "
                f"{len(self.spec.features)} features ({', '.join(self.spec.features[:8])}"
                f"{', ...' if len(self.spec.features) > 8 else ''}); build the input with the same "
                "feature-group version the model's lineage names")

    def predict(self, X: pd.DataFrame) -> pd.DataFrame:
        """Quantile forecasts (columns ``p10, p50, p90`` for the default quantiles), index of ``X``.

        Boosters either predict every quantile (quantile objective), or one point value; then
        the stored residual quantiles, in units of the transform's scale ``S`` (EUR/MWh for the
        identity transform), are added to the back-transformed point forecast (per
        ``residual_by`` group, e.g. horizon day, when given). Rows whose level or naive input is missing come
        back as NaN rather than as a guess."""
        self.check_inputs(X)
        level, scale = self.spec.transform.location_scale(X)
        linear = self.spec.linear
        lin = None if linear is None else linear.predict_rows(X, self.linear_boosters)
        if self.spec.kind == "linear":
            if lin is None:
                raise ValidationError("this model is of kind 'linear' but its spec has no linear part "
                                      "(spec.linear is None); set spec.linear back or load the model again")
            out = lin[:, None] + self.interval_units(X, scale)[:, None] * self.residual_offsets(X)
            out = np.sort(out, axis=1)
            return pd.DataFrame(out, index=X.index, columns=self.outputs)
        if self.spec.kind == "naive":
            base = X[self.spec.naive_column].to_numpy(dtype="float64", na_value=np.nan)
            z = self.spec.transform.forward(base, level, scale)[:, None]
        else:
            z = self.predict_transformed(X)
        if z.shape[1] == 1:
            point = self.spec.transform.inverse(z[:, 0], level, scale)
            point = self._blend(point, X, lin)
            out = point[:, None] + self.interval_units(X, scale)[:, None] * self.residual_offsets(X)
        elif z.shape[1] == len(self.spec.quantiles):
            out = self.spec.transform.inverse(z, level[:, None], scale[:, None])
            if linear is not None or self.spec.dnn is not None:  # move every quantile by the blend's change of the median
                mid = out[:, self.spec.quantiles.index(0.5)]
                out = out + (self._blend(mid, X, lin) - mid)[:, None]
        else:
            raise ValidationError(
                f"boosters predict {z.shape[1]} outputs but the model declares quantiles {self.spec.quantiles}")
        out = np.sort(out, axis=1)  # quantiles must not cross
        return pd.DataFrame(out, index=X.index, columns=self.outputs)

    def _blend(self, trees: np.ndarray, X: pd.DataFrame, lin: np.ndarray | None) -> np.ndarray:
        """The trees' point forecast blended with the linear and DNN parts (:func:`blend` without a
        DNN part, exactly as before DNN parts existed; :func:`blend_parts` with one)."""
        linear, dnn = self.spec.linear, self.spec.dnn
        if dnn is None:
            return trees if linear is None or lin is None else blend(trees, lin, linear.weight)
        parts = [] if linear is None or lin is None else [(lin, float(linear.weight))]
        parts.append((dnn.predict_rows(X, self.dnn_nets), float(dnn.weight)))
        return blend_parts(trees, parts)

    def predict_dnn(self, X: pd.DataFrame) -> np.ndarray | None:
        """The DNN part's forecast per row (NaN where it does not cover a row), or None."""
        if self.spec.dnn is None:
            return None
        return self.spec.dnn.predict_rows(X, self.dnn_nets)

    def predict_linear(self, X: pd.DataFrame) -> np.ndarray | None:
        """The linear part's forecast per row (NaN where it does not cover a row), or None."""
        if self.spec.linear is None:
            return None
        return self.spec.linear.predict_rows(X, self.linear_boosters)

    def tree_point(self, X: pd.DataFrame) -> np.ndarray:
        """The trees' point forecast alone (price scale), before any blend with linear or DNN members."""
        level, scale = self.spec.transform.location_scale(X)
        return self.spec.transform.inverse(self.predict_transformed(X)[:, 0], level, scale)

    def interval_units(self, X: pd.DataFrame, scale: np.ndarray) -> np.ndarray:
        """Per row, the unit of the residual quantiles: the model's :class:`IntervalScale`, or the
        transform's scale ``S`` for models without one."""
        if self.spec.interval_scale is None:
            return scale
        return self.spec.interval_scale.units(X)

    def residual_offsets(self, X: pd.DataFrame) -> np.ndarray:
        """(rows, quantiles) offsets in units of the scale ``S``: 0 for the median, else the
        stored residual quantile of the row's group (or the overall one). Offsets live in price
        units rather than asinh units: far from the level the asinh is flat, and a constant asinh
        offset there became a 50 EUR/MWh interval around a predictable night-time low."""
        names = self.outputs
        base = np.array([0.0 if q == 0.5 else float(self.spec.residual_quantiles.get(n, 0.0))
                         for q, n in zip(self.spec.quantiles, names, strict=True)])
        off = np.tile(base, (len(X), 1))
        if self.spec.residual_by and self.spec.residual_table:
            groups = X[self.spec.residual_by].astype("string").to_numpy()
            for g, table in self.spec.residual_table.items():
                rows = groups == g
                if rows.any():
                    for j, (q, n) in enumerate(zip(self.spec.quantiles, names, strict=True)):
                        if q != 0.5 and n in table:
                            off[rows, j] = float(table[n])
        return off

    def predict_transformed(self, X: pd.DataFrame) -> np.ndarray:
        """Member-combined predictions on the transformed scale, shape (rows, quantiles)."""
        Xt = self.spec.transform.apply(X[self.spec.inputs])[self.spec.features]
        arr = Xt.to_numpy(dtype="float32", na_value=np.nan)
        preds = [np.asarray(b.inplace_predict(arr), dtype="float64").reshape(len(Xt), -1)
                 for b in self.boosters]
        stack = np.stack(preds)
        if self.spec.combine == "median":
            return np.median(stack, axis=0)
        w = np.asarray([m.weight for m in self.spec.members], dtype="float64")
        return np.tensordot(w / w.sum(), stack, axes=1)

    @property
    def quantiles(self) -> list[float]:
        return list(self.spec.quantiles)

    @property
    def lineage(self) -> dict[str, Any]:
        return dict(self.spec.lineage)

    def with_info(self, *, lineage: dict[str, Any], training_window: dict[str, Any]) -> Predictor:
        return Predictor(replace(self.spec, lineage=lineage, training_window=training_window), self.boosters,
                         self.linear_boosters, self.dnn_nets)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the artifact folder (metadata JSON plus one file per booster, linear member and
        DNN layer)."""
        return save_artifact(path, self.spec, self.boosters, self.linear_boosters, self.dnn_nets)


def save_artifact(path: str | os.PathLike[str], spec: ModelSpec, boosters: Sequence[Any] = (),
                  linear_boosters: Sequence[Any] = (), dnn_nets: Sequence[DnnNets] = ()) -> Path:
    folder = Path(path)
    if spec.kind == "xgboost" and len(boosters) != len(spec.members):
        raise ValidationError(f"model has {len(spec.members)} members but {len(boosters)} boosters were given")
    lin_members = spec.linear.members if spec.linear is not None else []
    if len(linear_boosters) != len(lin_members):
        raise ValidationError(f"model has {len(lin_members)} linear members but {len(linear_boosters)} "
                              "linear boosters were given")
    coefficients = spec.linear is not None and spec.linear.solver == "lear"
    for b in linear_boosters:
        if isinstance(b, LinearCoefficients) != coefficients:
            raise ValidationError(f"linear solver {spec.linear.solver if spec.linear else None!r} stores "
                                  f"{'LinearCoefficients' if coefficients else 'gblinear boosters'}, got "
                                  f"{type(b).__name__}")
    _check_dnn_nets(spec, dnn_nets)  # before the folder exists: nothing is written for a mis-shaped model
    dnn_members = spec.dnn.members if spec.dnn is not None else []
    for tree in spec.members:
        _check_file(tree.file)
    pairs: list[tuple[Member | LinearMember, Any]] = [*zip(spec.members, boosters, strict=False),
                                                      *zip(lin_members, linear_boosters, strict=True)]
    folder.mkdir(parents=True, exist_ok=True)
    for m, b in pairs:
        b.save_model(str(folder / m.file))
    for dm, nets in zip(dnn_members, dnn_nets, strict=True):
        nets.save(folder, dm)
    (folder / METADATA_FILE).write_text(json.dumps(spec.to_dict(), indent=2, default=_json_default) + "\n")
    return folder


def _check_dnn_nets(spec: ModelSpec, dnn_nets: Sequence[Any]) -> None:
    if spec.dnn is not None:
        spec.dnn.check_nets(dnn_nets)
    elif len(dnn_nets):
        raise ValidationError(f"model has no DNN part but {len(dnn_nets)} DnnNets were given")


def read_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """The metadata of an artifact folder, without loading any booster."""
    return ModelSpec.from_dict(read_metadata(path))


_XGBOOST_CORE_ONLY = False


@contextlib.contextmanager
def xgboost_core_only() -> Iterator[None]:
    """While inside, a first ``import xgboost`` (by :func:`load_spotcast_model`) leaves out its
    scikit-learn wrappers and plotting: for a command that only predicts, such as
    ``spotcast-serve predict``.

    Why: ``import xgboost`` imports scikit-learn when it is installed (for ``XGBRegressor`` and
    friends), and with it SciPy's statistics, several times the cost of xgboost itself; and its
    wrappers module imports SciPy's special functions even without scikit-learn. A command
    that only runs :class:`Predictor` needs ``Booster`` alone. So while xgboost imports,
    scikit-learn is hidden (xgboost then takes its own "not installed" path) and so are
    ``xgboost.sklearn`` and ``xgboost.plotting`` (xgboost's package imports them in a
    ``try``/``except ImportError``). Afterwards all three import normally; in this process
    ``xgboost.XGBRegressor`` and the ``plot_*`` names are missing from xgboost's namespace
    (``from xgboost.sklearn import XGBRegressor`` still works, though it then treats
    scikit-learn as missing). Nothing in spotcast uses them; a process that might (training)
    does not enter this."""
    global _XGBOOST_CORE_ONLY
    before, _XGBOOST_CORE_ONLY = _XGBOOST_CORE_ONLY, True
    try:
        yield
    finally:
        _XGBOOST_CORE_ONLY = before


_HIDDEN_FROM_XGBOOST = ("sklearn", "xgboost.sklearn", "xgboost.plotting")


def _import_xgboost() -> Any:
    if not _XGBOOST_CORE_ONLY or "xgboost" in sys.modules:
        import xgboost

        return xgboost
    hidden = [m for m in _HIDDEN_FROM_XGBOOST if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # "import m" raises ImportError
    try:
        import xgboost
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
    return xgboost


def _member_file(folder: Path, name: str, what: str = "booster") -> Path:
    f = folder / name
    if not f.is_file():
        raise NotFoundError(f"model artifact {folder} lacks its {what} file {name}")
    return f


def load_spotcast_model(path: str | os.PathLike[str]) -> Predictor:
    """Load one of spotcast's own kinds into a :class:`Predictor` (imports xgboost only for
    artifacts with boosters; linear coefficients and DNN networks need NumPy alone)."""
    folder = Path(path)
    spec = read_spec(folder)
    boosters: list[Any] = []  # xgboost.Booster; xgboost is imported only when the artifact has boosters
    linear_boosters: list[Any] = []
    part = spec.linear
    gblinear = part is not None and part.solver == "gblinear"
    if spec.kind == "xgboost" or gblinear:
        # XGBoost's OpenMP workers spin while idle by default, which on a small shared machine
        # slows everything else down (and the prediction itself); wait passively unless the
        # user chose otherwise. Must be set before xgboost's library loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            xgb = _import_xgboost()
        except ImportError:  # pragma: no cover - depends on the installation
            raise ValidationError(
                "this model needs xgboost to run; install xgboost-cpu (pip install xgboost-cpu)") from None
        lin_members = part.members if part is not None and gblinear else []
        for members, into in ((spec.members if spec.kind == "xgboost" else [], boosters),
                              (lin_members, linear_boosters)):
            for m in members:
                f = _member_file(folder, m.file)
                b = xgb.Booster()
                b.load_model(str(f))
                into.append(b)
    if part is not None and not gblinear:  # coefficients: NumPy alone
        linear_boosters = [LinearCoefficients.load(_member_file(folder, m.file, "coefficient"), len(part.columns), part.hours)
                           for m in part.members]
    dnn_nets = [] if spec.dnn is None else [DnnNets.load(folder, m, spec.dnn) for m in spec.dnn.members]
    return Predictor(spec, boosters, linear_boosters, dnn_nets)



__all__ = [
    "DNN_ACTIVATIONS",
    "FORMAT_VERSION",
    "INTERVAL_UNIT",
    "KINDS",
    "LINEAR_SOLVERS",
    "DnnMember",
    "DnnNets",
    "DnnNetwork",
    "DnnPart",
    "IntervalScale",
    "LinearCoefficients",
    "LinearMember",
    "LinearPart",
    "Member",
    "ModelSpec",
    "Predictor",
    "Transform",
    "blend",
    "blend_parts",
    "check_blend_weights",
    "design_columns",
    "fill_missing_hour",
    "lear_design",
    "load_spotcast_model",
    "read_spec",
    "save_artifact",
]
