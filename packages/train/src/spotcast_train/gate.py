"""The promotion gate: a new model serves only if it beats, out of sample, the serving model's
recipe and both naive baselines on the same origins.

Out of sample means a rolling backtest (:func:`spotcast_train.rolling.rolling_origin`) over the
newest ``origins`` labelled origins before the fit's end, refitting every ``refit_days`` inside
it (28 origins, weekly refits: 4 fits of each recipe, not 28). Every model is scored on the same
rows (those every model forecast). The decision rule (:func:`decide`) is pure; the storage of
the decision is :mod:`spotcast_storage.promotion`.

A *recipe* is what produces a model: model type, options, training window, candidate features.
It is recorded with every registered model (``extra["recipe"]``) so a later gate can refit the
serving model's recipe on the new origins. When the serving recipe equals the challenger's
(the usual retrain on newer data), its backtest on the same origins *is* the challenger's
backtest, so it is not run twice, and the two tie by construction: a tie promotes the
challenger (the newer data is the only difference), provided it beats both naive baselines.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spotcast_storage import promotion
from spotcast_storage.errors import ValidationError
from spotcast_storage.modelformat import ModelPredictor
from spotcast_train import evaluate, metrics
from spotcast_train.rolling import rolling_origin

GATE_ORIGINS = 28
"""The fewest origins the gate scores (issue 12: a rolling backtest over at least 28 origins)."""
GATE_REFIT_DAYS = 7
NAIVE = ("naive-daily", "naive-weekly")
CHALLENGER, SERVING = promotion.GATE_STREAM_MODEL, "serving"
Fitter = Callable[[pd.DataFrame, pd.Timestamp], ModelPredictor]


# -- recipes --------------------------------------------------------------------------------------
OMIT_WHEN_NONE = "spotcast.omit_when_none"
"""Metadata key of a dataclass field (``field(default=None, metadata={OMIT_WHEN_NONE: True})``)
that :func:`encode_options` leaves out while it is None: a field added to settings later (e.g.
``XGBSettings.dnn``) then keeps a recipe recorded before it equal to the same settings now, so the
gate does not see a changed recipe (and refit the serving model) where nothing changed. Decoding
a recipe without the key gives the field its default, None."""


def encode_options(value: Any) -> Any:
    """Model options as JSON (dataclass settings keep their class name, so they can be rebuilt;
    fields marked :data:`OMIT_WHEN_NONE` only when set)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                **{f.name: encode_options(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if not (f.metadata.get(OMIT_WHEN_NONE) and getattr(value, f.name) is None)}}
    if isinstance(value, Mapping):
        return {str(k): encode_options(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_options(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValidationError(f"model option {value!r} ({type(value).__name__}) cannot be recorded with the model; "
                          "pass settings as dataclasses, numbers, strings or lists")


def decode_options(value: Any) -> Any:
    """The inverse of :func:`encode_options`. Only classes of modules already imported (the
    model plugins) are rebuilt: the registry names a class, it never makes Python import one."""
    if isinstance(value, list):
        return [decode_options(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__dataclass__" not in value:
        return {k: decode_options(v) for k, v in value.items()}
    module, _, qualname = str(value["__dataclass__"]).partition(":")
    cls: Any = sys.modules.get(module)
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
    if cls is None or not dataclasses.is_dataclass(cls):
        raise ValidationError(f"the recorded model option class {value['__dataclass__']!r} is not loaded; "
                              "install the model plugin that defines it")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in value:
            continue
        v = decode_options(value[f.name])
        if isinstance(v, list) and "tuple" in str(f.type):
            v = tuple(v)
        kwargs[f.name] = v
    return cls(**kwargs)


@dataclass(frozen=True)
class Recipe:
    model_type: str
    options: dict[str, Any]
    """Encoded (:func:`encode_options`): comparable and storable as JSON."""
    window_days: int | None
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model_type": self.model_type, "options": self.options, "window_days": self.window_days,
                "features": list(self.features)}

    @classmethod
    def make(cls, model_type: str, options: Mapping[str, Any] | None, window_days: int | None,
             features: Sequence[str]) -> Recipe:
        return cls(model_type, encode_options(dict(options or {})), window_days, tuple(features))

    @classmethod
    def of_model(cls, model: Any) -> Recipe | None:
        """The recipe recorded with a registered model; for models registered before recipes were
        recorded: its model type with default options, its window and features (None: unknown)."""
        extra = getattr(model, "extra", None) or {}
        r = extra.get("recipe")
        if isinstance(r, dict) and r.get("model_type"):
            return cls(str(r["model_type"]), dict(r.get("options") or {}), r.get("window_days"),
                       tuple(r.get("features") or ()))
        mt = (getattr(model, "lineage", None) or {}).get("model_type") or extra.get("model_type")
        if not mt:
            return None
        window = (extra.get("training_window") or {}).get("days")
        return cls(str(mt), {}, window, tuple(extra.get("features") or ()))

    def same_as(self, other: Recipe) -> bool:
        dump = lambda r: json.dumps(r.to_dict(), sort_keys=True)  # noqa: E731
        return dump(self) == dump(other)

    def decoded_options(self) -> dict[str, Any]:
        return decode_options(self.options)


# -- scoring ----------------------------------------------------------------------------------------
def gate_origins(frame: pd.DataFrame, n: int, time_col: str = "origin") -> list[pd.Timestamp]:
    """The newest ``n`` origins of ``frame`` (its rows are those labelled at the fit's end)."""
    if n < GATE_ORIGINS:
        raise ValidationError(f"the promotion gate needs at least {GATE_ORIGINS} origins, got {n}")
    origins = sorted(pd.DatetimeIndex(frame[time_col]).unique())
    if len(origins) < n:
        raise ValidationError(
            f"only {len(origins)} labelled origins: the promotion gate scores the newest {n}; load more "
            "history (or build features for more days)")
    return list(origins[-n:])


@dataclass
class GateScores:
    forecasts: pd.DataFrame
    """Long: origin, ts, horizon_day, actual, p10/p50/p90, model (challenger, serving, naive-*),
    restricted to the rows every model forecast."""
    mae: dict[str, float]
    origins: list[pd.Timestamp]
    refit_days: int

    @property
    def rows(self) -> int:
        return int((self.forecasts["model"] == CHALLENGER).sum())

    def table(self) -> pd.DataFrame:
        """Per model and horizon day (0: all), MAE/RMSE/sMAPE/rMAE/coverage on the same rows."""
        return evaluate.score(self.forecasts)


def score(frame: pd.DataFrame, origins: Sequence[pd.Timestamp], fitters: Mapping[str, Fitter], *,
          target: str, refit_days: int = GATE_REFIT_DAYS, window_days: Mapping[str, int | None] | None = None,
          time_col: str = "origin", known_col: str = "label_known_at",
          progress: Callable[[int, int], None] | None = None) -> GateScores:
    """Rolling-origin forecasts of every fitter over ``origins`` (each refitted every
    ``refit_days`` on rows known at the refit origin), scored on the rows all of them forecast."""
    windows = dict(window_days or {})
    keyed = []
    names = list(fitters)
    for i, name in enumerate(names):
        step = None if progress is None else (lambda k, n, i=i: progress(i * n + k, len(names) * n))
        pred = rolling_origin(frame, origins, fitters[name], recalibrate=refit_days,
                              window_days=windows.get(name), time_col=time_col, known_col=known_col,
                              keep=("horizon_day", target), progress=step)
        keyed.append(pred.assign(model=name).rename(columns={target: "actual"}))
    long = pd.concat(keyed, ignore_index=True)
    for c in ("p10", "p90"):
        if c not in long:
            long[c] = np.nan
    ok = long["p50"].notna() & long["actual"].notna()
    per_key = long[ok].groupby([time_col, "ts"])["model"].nunique()
    common = per_key[per_key == len(names)].index
    idx = pd.MultiIndex.from_frame(long[[time_col, "ts"]])
    long = long[ok & idx.isin(common)].reset_index(drop=True)
    if long.empty:
        raise ValidationError("no forecast row of the gate's origins was forecast by every model; "
                              "check the features of the newest origins")
    mae = {name: metrics.mae(g["actual"], g["p50"]) for name, g in long.groupby("model")}
    return GateScores(long, mae, list(origins), refit_days)


# -- the rule --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    decision: str
    """``promoted`` | ``rejected`` (the serving model keeps serving) | ``fallback`` (the weekly naive serves)."""
    why: str


def decide(mae: Mapping[str, float | None], *, has_serving: bool, serving_is_naive: bool = False) -> Verdict:
    """The challenger is promoted when its MAE is below both naive baselines' and not above the
    serving recipe's (a tie means the same recipe: see the module docstring). Otherwise the
    serving model keeps serving if it beats both naive baselines on the same rows; if nothing
    does, the weekly naive serves."""
    ch = float(mae[CHALLENGER])  # type: ignore[arg-type]
    naive_best = min(float(mae[n]) for n in NAIVE)  # type: ignore[arg-type]
    serving = mae.get(SERVING)
    serving_ok = serving is not None and np.isfinite(serving)
    beats_naive = ch < naive_best
    beats_serving = not has_serving or serving_is_naive or not serving_ok or ch <= float(serving)  # type: ignore[arg-type]
    if beats_naive and beats_serving:
        return Verdict("promoted", "beats the serving model and both naive baselines")
    if has_serving and not serving_is_naive and serving_ok and float(serving) < naive_best:  # type: ignore[arg-type]
        return Verdict("rejected", "the serving model beats it" if beats_naive else "it does not beat both naive baselines")
    if has_serving and not serving_is_naive and not serving_ok:
        return Verdict("rejected", "it does not beat both naive baselines (the serving model could not be re-scored)")
    return Verdict("fallback", "no model beats both naive baselines")
