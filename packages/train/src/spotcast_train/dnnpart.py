"""DNN members in the stage's default model: :mod:`spotcast_train.dnn`'s network beside the trees
and the linear members, on horizon day 1, on the same per-day design.

Each member is one training window and one horizon day: :class:`spotcast_train.dnn.DnnModel`
(scikit-learn's ``MLPRegressor``, two hidden layers, 24 outputs, early stopping, one network per
seed, Invariant scaling of inputs and targets) fitted on that window's complete days of
:func:`spotcast_storage.boosted.lear_design`, the design the linear members use. The fitted
networks are stored as plain arrays (:class:`~spotcast_storage.boosted.DnnNets`, format version
4), so serve predicts them with NumPy alone. On the days the DNN covers, the point forecast is
``(1 - w_lin - w_dnn) * trees + w_lin * linear + w_dnn * dnn``
(:func:`spotcast_storage.boosted.blend_parts`).

**On in the stage's default model** (``builtins.xgboost.STAGE_DNN``, weight 0.2 chosen on the
epftoolbox validation years with the LEAR members' 0.35); ``XGBSettings.dnn`` itself defaults to
None, so settings built from Python have no DNN part unless they ask for one
(``spotcast-train fit --no-dnn`` drops it from the default).

Settings live here rather than in :mod:`spotcast_train.dnn` so that the CLI and the model's
recorded recipe can name them without importing scikit-learn; fitting imports
:mod:`spotcast_train.dnn` and says how to install scikit-learn where it is missing. Pure: frames in,
:class:`~spotcast_storage.boosted.Predictor` out; no store access.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage.boosted import (
    DnnMember,
    DnnNets,
    DnnNetwork,
    DnnPart,
    Predictor,
    check_blend_weights,
    fill_missing_hour,
    lear_design,
)
from spotcast_storage.errors import ValidationError

DNN_MIN_DAYS = 20
"""The fewest complete training days :class:`spotcast_train.dnn.DnnModel` fits on."""


@dataclass(frozen=True)
class DnnSettings:
    """Everything that decides the network; recorded in benchmark output and, inside
    :class:`DnnPartSettings`, in the stage's artifacts."""

    hidden: tuple[int, int] = (256, 128)
    activation: str = "relu"
    alpha: float = 1e-4
    """L2 penalty on the weights."""
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 300
    patience: int = 20
    """Epochs without improvement on the validation split before training stops (epftoolbox: 20)."""
    validation_fraction: float = 0.2
    """Share of the training days held out for early stopping; 0.2 of four years is about the 42
    weeks epftoolbox holds out."""
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    window_days: int = 1456
    """Training days before the origin (the benchmark's and the stage's one window; fewer where
    the history is shorter)."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"], d["seeds"] = list(self.hidden), list(self.seeds)
        return d

    def with_(self, **kw: Any) -> DnnSettings:
        return replace(self, **kw)


@dataclass(frozen=True)
class DnnPartSettings:
    """The DNN part of the default model: the network (:class:`DnnSettings`: hidden sizes, seeds,
    the one training window ``network.window_days``, epochs) and how it joins the blend."""

    network: DnnSettings = field(default_factory=DnnSettings)
    weight: float = 0.2
    """Weight of the DNN forecast in the blend; the trees keep ``1 - linear weight - this``. 0.2 is
    the stage default's (:data:`spotcast_train.builtins.xgboost.STAGE_DNN`, chosen on the validation
    years beside LEAR members at 0.35)."""
    horizon_days: tuple[int, ...] = (1,)
    """Horizon days with a DNN member (the days the linear part covers); the others are trees
    (and linear members where there are any) alone."""
    sources: tuple[str, ...] | None = None
    """Columns pivoted by hour into the design; None: the linear part's
    :func:`spotcast_train.linear.default_sources` of the frame."""
    calendar: str | None = "weekday"
    hours: int = 24
    min_days: int = DNN_MIN_DAYS

    def __post_init__(self) -> None:
        check_blend_weights({"DNN": self.weight})
        net = self.network
        if len(net.hidden) != 2 or any(int(h) < 1 for h in net.hidden):
            raise ValidationError(f"DNN hidden sizes {list(net.hidden)}: the design has two hidden layers of at "
                                  "least one unit each, e.g. 256,128")
        if not net.seeds or len(set(net.seeds)) != len(net.seeds):
            raise ValidationError(f"DNN seeds {list(net.seeds)}: give at least one, each once")
        if net.window_days < self.min_days:
            raise ValidationError(f"DNN window of {net.window_days} days is shorter than the {self.min_days} "
                                  "training days a network needs")
        if self.min_days < DNN_MIN_DAYS:
            raise ValidationError(f"DNN min_days {self.min_days}: a network needs at least {DNN_MIN_DAYS} days")
        if not self.horizon_days or any(int(d) < 1 for d in self.horizon_days):
            raise ValidationError(f"DNN horizon days {list(self.horizon_days)}: give days from 1 on")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["network"] = self.network.to_dict()
        d["horizon_days"] = list(self.horizon_days)
        if d["sources"] is not None:
            d["sources"] = list(d["sources"])
        return d

    def with_(self, **kw: Any) -> DnnPartSettings:
        return replace(self, **kw)


def dnn_module() -> Any:
    """:mod:`spotcast_train.dnn` (scikit-learn), or a :class:`ValidationError` saying how to install it."""
    try:
        return importlib.import_module("spotcast_train.dnn")
    except ModuleNotFoundError as exc:
        if exc.name != "sklearn":
            raise
        raise ValidationError(f"DNN members: {exc.msg}") from None


def check_weights(linear_weight: float | None, dnn_weight: float) -> None:
    """The blend's weights (:func:`~spotcast_storage.boosted.check_blend_weights`, the one check):
    each in [0, 1] and together at most 1 (the trees keep the rest)."""
    check_blend_weights({"linear": linear_weight, "DNN": dnn_weight})


def dnn_options(dnn: bool | None, weight: float | None = None, seeds: str | Sequence[int] | None = None,
                linear_weight: float | None = None, base: DnnPartSettings | None = None) -> dict[str, Any]:
    """The xgboost kind's ``options`` for `spotcast-train`'s ``--dnn/--no-dnn``, ``--dnn-weight``
    and ``--dnn-seeds`` (``linear_weight``: the linear part's weight it joins; None without one;
    ``base``: the DNN part the model has by default, None if it has none): ``{"dnn":
    DnnPartSettings(...) | None}``, or ``{}`` for the model's default. ``dnn=None`` with a weight or
    seeds changes the default part (an error if the model has none); ``dnn=False`` drops it. Bad
    weights and a missing scikit-learn are errors here, before any fit or write."""
    given = [n for n, v in (("--dnn-weight", weight), ("--dnn-seeds", seeds)) if v is not None]
    if dnn is False:
        if given:
            raise ValidationError(f"{' and '.join(given)} with --no-dnn: drop {'it' if len(given) == 1 else 'them'} "
                                  "or --no-dnn")
        return {"dnn": None}
    if dnn is None and not given:
        return {}
    if dnn is None and base is None:
        raise ValidationError(f"{' and '.join(given)}: this model has no DNN members by default; add --dnn")
    settings = base or DnnPartSettings()
    if weight is not None:
        settings = settings.with_(weight=weight)
    if seeds is not None:
        settings = settings.with_(network=settings.network.with_(seeds=seeds_of(seeds)))
    check_weights(linear_weight, settings.weight)
    dnn_module()
    return {"dnn": settings}


def seeds_of(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"0,1,2"`` -> (0, 1, 2) (``--dnn-seeds`` of `spotcast-train` and the benchmark)."""
    if isinstance(text, str):
        try:
            out = tuple(int(t) for t in text.split(",") if t.strip())
        except ValueError:
            raise ValidationError(f"--dnn-seeds {text!r}: give integers separated by commas, like 0,1,2,3") from None
    else:
        out = tuple(int(t) for t in text)
    if not out:
        raise ValidationError("at least one DNN seed is needed")
    return out


def fitted_nets(model: Any) -> DnnNets:
    """A fitted :class:`spotcast_train.dnn.DnnModel` as the numbers storage predicts with."""
    nets = []
    for n in model.nets:
        if n.out_activation_ != "identity":  # a regressor's output layer; anything else would not round-trip
            raise ValidationError(f"DNN output activation {n.out_activation_!r}: only identity is stored")
        nets.append(DnnNetwork(tuple(np.asarray(w, dtype="float64") for w in n.coefs_),
                               tuple(np.asarray(b, dtype="float64") for b in n.intercepts_), n.activation))
    return DnnNets(np.asarray(model.x_scaler.center, dtype="float64"), np.asarray(model.x_scaler.scale, dtype="float64"),
                   np.asarray(model.y_scaler.center, dtype="float64"), np.asarray(model.y_scaler.scale, dtype="float64"),
                   tuple(nets))


def fit_dnn_part(train: pd.DataFrame, target: str, time_col: str, settings: DnnPartSettings,
                 until: pd.Timestamp | None = None) -> tuple[DnnPart, list[DnnNets]] | None:
    """:func:`fit_dnn_members` without the reason when there are none."""
    fitted = fit_dnn_members(train, target, time_col, settings, until)
    return None if isinstance(fitted, str) else fitted


def fit_dnn_members(train: pd.DataFrame, target: str, time_col: str, settings: DnnPartSettings,
                    until: pd.Timestamp | None = None) -> tuple[DnnPart, list[DnnNets]] | str:
    """Fit the DNN members on ``train`` (already restricted to rows known at the origin ``until``;
    the window counts back from it). Returns the part and one :class:`DnnNets` per
    :class:`DnnMember`; or, when no horizon day has ``min_days`` complete days (every design value,
    after :func:`~spotcast_storage.boosted.fill_missing_hour` fills a single missing hour, and all 24
    labels: a network has no rule for a missing input), why not, in words (e.g. ``"no DNN members:
    12 complete days < 20"``), so a fit asked for DNN members can say it has none."""
    from spotcast_train.linear import default_sources

    dnn = dnn_module()
    sources = list(settings.sources) if settings.sources is not None else default_sources(train)
    if not any(c.startswith("price_") for c in sources):
        return f"no DNN members: the design's sources {sources} have no price column"
    end = pd.Timestamp(until) if until is not None else pd.Timestamp(train[time_col].max())
    net = settings.network
    w = int(net.window_days)
    members: list[DnnMember] = []
    fitted: list[DnnNets] = []
    epochs: dict[str, list[int]] = {}
    complete = 0
    for day in sorted(settings.horizon_days):
        rows = train[train["horizon_day"] == day] if "horizon_day" in train.columns else train.iloc[:0]
        if rows.empty:
            continue
        keys, design, y = lear_design(rows, sources, hours=settings.hours, calendar=settings.calendar,
                                      time_col=time_col, target=target)
        design = fill_missing_hour(design, len(sources), settings.hours)  # as DnnPart.predict_days does
        times = pd.DatetimeIndex(keys[time_col])
        usable = np.isfinite(design).all(axis=1) & np.isfinite(y).all(axis=1)
        sel = np.flatnonzero(usable & np.asarray(times >= end - pd.Timedelta(days=w)))
        complete = max(complete, len(sel))
        if len(sel) < settings.min_days:
            continue
        model = dnn.DnnModel(settings=net, dummies=design.shape[1] - len(sources) * settings.hours)
        model.fit(design[sel], y[sel])
        stem = f"dnn-d{day}-w{w:04d}"
        t = times[sel]
        members.append(DnnMember(
            scaler=f"{stem}-scaler.npy",
            nets=[[f"{stem}-s{seed}-l{i}.npy" for i in range(len(n.coefs_))] for seed, n in zip(net.seeds, model.nets,
                                                                                               strict=True)],
            seeds=[int(s) for s in net.seeds], window_days=w, horizon_day=day, rows=len(sel),
            trained_from=t.min().isoformat(), trained_until=t.max().isoformat()))
        fitted.append(fitted_nets(model))
        epochs[stem] = [int(n.n_iter_) for n in model.nets]
    if not members:
        days = "" if len(settings.horizon_days) == 1 else " on any horizon day"
        return (f"no DNN members: {complete} complete days{days} < {settings.min_days} (within {w} days of the "
                "origin; load more history or widen --window)")
    part = DnnPart(sources=sources, members=members, weight=settings.weight, hours=settings.hours,
                   calendar=settings.calendar, time_col=time_col, activation=net.activation,
                   params={"library": "sklearn.neural_network.MLPRegressor", **net.to_dict()},
                   info={"settings": settings.to_dict(), "epochs": epochs})
    return part, fitted


def with_dnn(model: Predictor, train: pd.DataFrame, target: str, time_col: str, settings: DnnPartSettings,
             until: pd.Timestamp | None = None) -> Predictor:
    """``model`` (trees, with or without linear members) plus DNN members fitted on the same rows:
    on the days they cover the point forecast becomes ``(1 - w_lin - w_dnn) * trees + w_lin *
    linear + w_dnn * dnn``. With too little history ``model`` forecasts as it would without them,
    and says why in ``spec.info["notes"]`` (which `spotcast-train fit` prints): asked-for members
    that are not there are never silent."""
    linear = model.spec.linear
    check_weights(linear.weight if linear is not None else None, settings.weight)
    fitted = fit_dnn_members(train, target, time_col, settings, until)
    if isinstance(fitted, str):
        info = {**model.spec.info, "notes": [*model.spec.info.get("notes", []), fitted]}
        return Predictor(replace(model.spec, info=info), model.boosters, model.linear_boosters)
    part, nets = fitted
    spec = replace(model.spec, dnn=part, info={**model.spec.info, "dnn": settings.to_dict()})
    return Predictor(spec, model.boosters, model.linear_boosters, nets)
