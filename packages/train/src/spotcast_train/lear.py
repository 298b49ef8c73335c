"""LEAR as published (Lago, Marcjasz, De Schutter and Weron 2021, epftoolbox).

One LASSO per hour of the day on a fixed per-day design: the 24 prices of d-1, d-2, d-3 and d-7,
each exogenous series' 24 values of d-1, d-7 and d, and 7 weekday dummies. Every input except the
dummies, and the target, is median/MAD-normalised and asinh-transformed ("Invariant" scaling,
fitted on the training window). The penalty of each hour is chosen by LARS with AIC, then the
LASSO is refitted by coordinate descent at that penalty. Calibration windows of 56, 84, 1092 and
1456 days are fitted separately and their forecasts averaged; the published models recalibrate
every day.

Reproducing the published numbers needs two details of the scikit-learn version the authors ran
(0.2x), which later releases changed:

* ``LassoLarsIC`` normalised the design (centred, columns divided by their L2 norm) before LARS,
  so the chosen ``alpha_`` belongs to the normalised problem, and was then handed to a ``Lasso``
  on the *un-normalised* design. That is a much weaker penalty than AIC chose (by about
  ``sqrt(n) * std`` of each column) and it is what the published forecasts were made with.
  ``alpha_mode="published"`` does the same; ``"aic"`` uses the AIC penalty on the design as it is.
* AIC was ``n * MSE / var(y) + 2 * df``. Newer releases estimate the noise variance from an OLS
  fit, which fails when a window has fewer days than features (56 and 84 days here); passing
  ``noise_variance=var(y)`` gives the old criterion (a constant apart) and works on every window.

Pure: arrays in, arrays out; no store access.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from spotcast_storage.errors import ValidationError
from spotcast_train.epf import EpfData, lag_days
from spotcast_train.linear import ALPHA_SELECTIONS

SKLEARN_MISSING = (
    "LEAR and the DNN member need scikit-learn, a dependency of spotcast-train that is not installed "
    "here (an install with --no-deps?): pip install 'scikit-learn>=1.4' (in the workspace: uv sync), "
    "or fit without them: --linear-solver gblinear --no-dnn"
)


def require_sklearn() -> None:
    """Fail at import, saying how to install scikit-learn, where it is missing (an install without
    dependencies), instead of a bare ``No module named 'sklearn'`` deep inside a fit."""
    if "sklearn" in sys.modules:  # already imported, or blocked with None
        found = sys.modules["sklearn"] is not None
    else:
        found = importlib.util.find_spec("sklearn") is not None
    if not found:
        raise ModuleNotFoundError(SKLEARN_MISSING, name="sklearn")


require_sklearn()

HOURS = 24
PRICE_LAGS = (1, 2, 3, 7)
EXO_LAGS = (1, 7)
WINDOWS = (56, 84, 1092, 1456)
MAX_LAG = max(PRICE_LAGS + EXO_LAGS)
MAD_NORMAL = 0.6744897501960817  # statsmodels.robust.mad: MAD / Phi^-1(3/4)


def design(prices: np.ndarray, exogenous: Sequence[np.ndarray], days: Sequence,
           exo_lags: Sequence[int] = EXO_LAGS) -> np.ndarray:
    """The epftoolbox LEAR design, one row per day (row ``i`` forecasts day ``i``).

    ``exo_lags``: the past days of each exogenous series (the paper's 1 and 7; one revision of
    epftoolbox's code has 1 and 2, which the benchmark can try).

    Column order as epftoolbox builds it: per hour the prices of d-1, d-2, d-3, d-7; per hour the
    exogenous series of d-1 and d-7 then d; last the 7 weekday dummies (Monday first). Rows of
    the first 7 days hold NaN where a lag does not exist."""
    import pandas as pd

    p = np.asarray(prices, dtype="float64")
    if p.ndim != 2 or p.shape[1] != HOURS:
        raise ValidationError(f"prices must be a (days, 24) matrix, got shape {p.shape}")
    exo = [np.asarray(x, dtype="float64") for x in exogenous]
    for x in exo:
        if x.shape != p.shape:
            raise ValidationError(f"every exogenous series must have the prices' shape {p.shape}, got {x.shape}")
    if len(days) != len(p):
        raise ValidationError(f"{len(days)} days for {len(p)} rows of prices")
    lags = {k: lag_days(p, k) for k in PRICE_LAGS}
    cols = [lags[k][:, h] for h in range(HOURS) for k in PRICE_LAGS]
    if not exo_lags or any(int(k) < 1 or int(k) > MAX_LAG for k in exo_lags):
        raise ValidationError(f"exogenous lags {tuple(exo_lags)}: give days between 1 and {MAX_LAG}")
    lagged = [{k: lag_days(x, k) for k in exo_lags} for x in exo]
    for h in range(HOURS):
        for k in exo_lags:
            cols.extend(el[k][:, h] for el in lagged)
        cols.extend(x[:, h] for x in exo)
    wd = pd.DatetimeIndex(days).day_of_week.to_numpy()
    cols.extend((wd == d).astype("float64") for d in range(7))
    return np.column_stack(cols)


N_DUMMIES = 7
"""Weekday dummies at the end of the design (Monday first), left unscaled."""


def n_dummies() -> int:
    return N_DUMMIES


@dataclass
class InvariantScaler:
    """Column-wise ``asinh((x - median) / MAD)``, MAD scaled to a normal's standard deviation
    (epftoolbox's 'Invariant'); a column with zero MAD is only centred."""

    center: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))

    def fit(self, a: np.ndarray) -> InvariantScaler:
        self.center = np.median(a, axis=0)
        s = np.median(np.abs(a - self.center), axis=0) / MAD_NORMAL
        self.scale = np.where(s > 0, s, 1.0)
        return self

    def transform(self, a: np.ndarray) -> np.ndarray:
        return np.arcsinh((a - self.center) / self.scale)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.sinh(z) * self.scale + self.center


def scale_design(X: np.ndarray, scaler: InvariantScaler, fit: bool = False, dummies: int = N_DUMMIES) -> np.ndarray:
    """The design with every column but the ``dummies`` last ones (weekday dummies) scaled: dummies
    stay 0/1, as in epftoolbox. ``fit`` measures the scaler on ``X`` first (training), else reuses
    it. ``dummies=0`` for a design without them (the stage's ``calendar=None``)."""
    k = X.shape[1] - dummies
    Z = X.copy()
    if fit:
        scaler.fit(X[:, :k])
    Z[:, :k] = scaler.transform(X[:, :k])
    return Z


def select_alpha(X: np.ndarray, y: np.ndarray, mode: str = "published") -> float:
    """The hour's LASSO penalty: LARS with AIC (``n * MSE / var(y) + 2 * df``).

    ``published``: on the normalised design, as scikit-learn 0.2x's ``LassoLarsIC`` (default
    ``normalize=True``) did for the published forecasts; ``aic``: on the design as it is."""
    from sklearn.linear_model import LassoLarsIC

    if mode not in ALPHA_SELECTIONS:
        raise ValidationError(f"alpha mode {mode!r}: use one of {', '.join(map(repr, ALPHA_SELECTIONS))}")
    Z = X
    if mode == "published":
        Z = X - X.mean(axis=0)
        norm = np.sqrt((Z ** 2).sum(axis=0))
        Z = Z / np.where(norm > 0, norm, 1.0)
    var = float(np.var(y)) + np.finfo("float64").eps
    m = LassoLarsIC(criterion="aic", max_iter=2500, noise_variance=var)
    return float(m.fit(Z, y).alpha_)


@dataclass
class LearModel:
    """One calibration window's 24 hourly LASSOs and the scalers fitted with them.

    ``dummies``: how many last design columns are left unscaled (the weekday dummies). The stage's
    linear members (:mod:`spotcast_train.linear`, ``solver="lear"``) fit through this class too
    and store ``coef``, ``intercept`` and the scalers' centres and scales as plain numbers."""

    alpha_mode: str = "published"
    dummies: int = N_DUMMIES
    x_scaler: InvariantScaler = field(default_factory=InvariantScaler)
    y_scaler: InvariantScaler = field(default_factory=InvariantScaler)
    coef: np.ndarray = field(default_factory=lambda: np.zeros((0, HOURS)))
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))
    alphas: np.ndarray = field(default_factory=lambda: np.zeros(HOURS))

    def fit(self, X: np.ndarray, Y: np.ndarray) -> LearModel:
        """``X``: design rows (dummies last), ``Y``: the (rows, 24) prices they forecast."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import Lasso

        X = np.asarray(X, dtype="float64")
        Y = np.asarray(Y, dtype="float64")
        if len(X) != len(Y) or Y.ndim != 2:
            raise ValidationError(f"LEAR needs X rows and (rows, 24) targets alike, got {X.shape} and {Y.shape}")
        if len(X) < 2 or not (np.isfinite(X).all() and np.isfinite(Y).all()):
            raise ValidationError("LEAR training rows must be at least 2 and hold no missing value")
        Z = scale_design(X, self.x_scaler, fit=True, dummies=self.dummies)
        Zy = self.y_scaler.fit(Y).transform(Y)
        coef = np.zeros((X.shape[1], Y.shape[1]))
        icpt = np.zeros(Y.shape[1])
        alphas = np.zeros(Y.shape[1])
        # the Gram matrix of the centred design, shared by the 24 hours: coordinate descent on it
        # gives the same iterates as on the design (checked to 1e-10) at a fraction of the cost
        xm = Z.mean(axis=0)
        Zc = Z - xm
        G = Zc.T @ Zc
        with warnings.catch_warnings():
            # epftoolbox runs the LASSO with max_iter=2500 and ignores non-convergence too
            warnings.simplefilter("ignore", ConvergenceWarning)
            for h in range(Y.shape[1]):
                a = select_alpha(Z, Zy[:, h], self.alpha_mode)
                ym = Zy[:, h].mean()
                m = Lasso(alpha=a, max_iter=2500, precompute=G, fit_intercept=False).fit(Zc, Zy[:, h] - ym)
                coef[:, h], icpt[h], alphas[h] = m.coef_, ym - xm @ m.coef_, a
        self.coef, self.intercept, self.alphas = coef, icpt, alphas
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype="float64"))
        Z = scale_design(X, self.x_scaler, dummies=self.dummies)
        return self.y_scaler.inverse(Z @ self.coef + self.intercept)


def window_rows(day: int, window: int) -> slice:
    """Training rows of a ``window``-day calibration for forecasting day index ``day``.

    As epftoolbox: the ``window`` days before ``day``, less their first week (whose lags reach
    before the window); never ``day`` itself or anything after it."""
    return slice(max(day - window + MAX_LAG, MAX_LAG), day)


def forecast_day(X: np.ndarray, Y: np.ndarray, day: int, windows: Sequence[int] = WINDOWS,
                 alpha_mode: str = "published") -> dict[int, np.ndarray]:
    """Recalibrate one LEAR per window on the days before ``day`` and forecast ``day``'s 24 prices.

    Only rows before ``day`` are read from ``Y`` (a test holds this by changing every later price).
    Returns window -> 24 prices; average them for the LEAR ensemble."""
    if not 0 <= day < len(X):
        raise ValidationError(f"day index {day} is outside the {len(X)} days of the design")
    out: dict[int, np.ndarray] = {}
    for w in windows:
        if w <= MAX_LAG:
            raise ValidationError(f"calibration window {w} days is too short; it loses its first {MAX_LAG} days")
        rows = window_rows(day, w)
        if rows.stop - rows.start < 2:
            raise ValidationError(f"day index {day} has fewer than 2 training days before it")
        model = LearModel(alpha_mode=alpha_mode).fit(X[rows], Y[:day][rows])
        out[w] = model.predict(X[day])[0]
    return out


def epf_arrays(data: EpfData, exo_lags: Sequence[int] = EXO_LAGS) -> tuple[np.ndarray, np.ndarray]:
    """Design and target of an epftoolbox dataset."""
    return design(data.prices, list(data.exogenous.values()), data.days, exo_lags), data.prices
