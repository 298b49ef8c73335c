"""A neural member in the epftoolbox DNN design (Lago et al. 2021), on CPU.

A feed-forward network with two hidden layers and 24 outputs (the day's prices, fitted jointly),
on LEAR's per-day design (:func:`spotcast_train.lear.design`) with the same Invariant scaling of
inputs (dummies left as they are) and targets, trained with Adam and early stopping on a held-out
validation split of the training window. epftoolbox ensembles four networks whose settings came
from separate hyper-parameter searches; here members differ by seed, which is the cheaper part
of that diversity.

The library is scikit-learn's ``MLPRegressor``: a network this size needs nothing more, and it
avoids PyTorch's wheel, which brings CUDA libraries (about 750 MB installed against tens of MB,
benchmarks/README.md records the comparison).

Pure: arrays in, arrays out; no store access.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spotcast_storage.errors import ValidationError
from spotcast_train.dnnpart import DnnSettings
from spotcast_train.dnnpart import seeds_of as seeds_of  # where the benchmark finds it
from spotcast_train.lear import MAX_LAG, N_DUMMIES, InvariantScaler, scale_design


@dataclass
class DnnModel:
    """One or more seeded networks and the scalers fitted with them; predictions are averaged.

    ``dummies``: how many last design columns are left unscaled (the weekday dummies; 0 for the
    stage's design without a calendar)."""

    settings: DnnSettings = field(default_factory=DnnSettings)
    dummies: int = N_DUMMIES
    x_scaler: InvariantScaler = field(default_factory=InvariantScaler)
    y_scaler: InvariantScaler = field(default_factory=InvariantScaler)
    nets: list[Any] = field(default_factory=list)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> DnnModel:
        """``X``: design rows (dummies last), ``Y``: the (rows, 24) prices they forecast."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        X = np.asarray(X, dtype="float64")
        Y = np.asarray(Y, dtype="float64")
        s = self.settings
        if len(s.hidden) != 2:
            raise ValidationError(f"the DNN design has two hidden layers, got {list(s.hidden)}")
        if len(X) != len(Y) or Y.ndim != 2:
            raise ValidationError(f"DNN needs X rows and (rows, 24) targets alike, got {X.shape} and {Y.shape}")
        if len(X) < 20 or not (np.isfinite(X).all() and np.isfinite(Y).all()):
            raise ValidationError("DNN training needs at least 20 complete days (no missing value)")
        Z = scale_design(X, self.x_scaler, fit=True, dummies=self.dummies)
        Zy = self.y_scaler.fit(Y).transform(Y)
        self.nets = []
        # the batch as scikit-learn would clip it to the days left after the early-stopping split
        # (same fit; without its warning on a short window, as in the promotion gate's first refits)
        n_train = len(Z) - int(np.ceil(len(Z) * s.validation_fraction))
        batch = max(1, min(s.batch_size, n_train))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for seed in s.seeds:
                net = MLPRegressor(hidden_layer_sizes=s.hidden, activation=s.activation, alpha=s.alpha,
                                   learning_rate_init=s.learning_rate, batch_size=batch,
                                   max_iter=s.max_epochs, early_stopping=True,
                                   validation_fraction=s.validation_fraction, n_iter_no_change=s.patience,
                                   tol=0.0, random_state=seed)
                self.nets.append(net.fit(Z, Zy))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not self.nets:
            raise ValidationError("the DNN is not fitted yet; call fit first")
        X = np.atleast_2d(np.asarray(X, dtype="float64"))
        Z = scale_design(X, self.x_scaler, dummies=self.dummies)
        return np.mean([self.y_scaler.inverse(np.atleast_2d(n.predict(Z))) for n in self.nets], axis=0)


def fit_before(X: np.ndarray, Y: np.ndarray, day: int, settings: DnnSettings | None = None) -> DnnModel:
    """A DNN fitted on the ``window_days`` before ``day`` (less the first week, as LEAR); only rows
    before ``day`` are read."""
    s = settings or DnnSettings()
    start = max(day - s.window_days + MAX_LAG, MAX_LAG)
    if day - start < 20:
        raise ValidationError(f"day index {day} has fewer than 20 training days before it")
    return DnnModel(settings=s).fit(X[start:day], Y[:day][start:day])
