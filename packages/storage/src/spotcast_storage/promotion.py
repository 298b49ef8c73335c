"""Which model serves a zone, and why: the promotion gate's decision records.

The train stage's gate scores every new model (the *challenger*) in a rolling backtest over the
newest origins against the serving model's recipe and both naive baselines, then registers it
with a decision record in the registry metadata (``extra["promotion"]``, kept by both backends):

- ``promoted``: the challenger beat the serving model and both naive baselines; it serves.
- ``rejected``: it did not; the serving model keeps serving (the record names it).
- ``fallback``: it did not, and nothing else beats the naive baselines either; the weekly
  naive serves (registered just before as its own model, with a record of role ``fallback``).
- ``recalibrated``: the serving model with its cheap members (LEAR) refitted on newer origins
  and the rest (trees, DNN) kept; it serves in its place. Not gated again: its recipe is the
  gated model's, whose record it copies and names as its *root* (:func:`recalibration_record`).

:func:`serving_status` reads the newest record of a zone. It lives here, not in train, because
serve (which model to load), the umbrella's ``spotcast status`` and the API read it, and stages
never import each other. A store whose models were registered before the gate existed has no
records: the newest learned model serves, and the status says it is *ungated*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotcast_storage.errors import ValidationError
from spotcast_storage.lineage import Lineage

if TYPE_CHECKING:
    from spotcast_storage.protocols import Model, Project

RECORD_KEY = "promotion"
DECISIONS = ("promoted", "rejected", "fallback", "recalibrated")
ROLES = ("challenger", "fallback")
BASELINES = ("naive-daily", "naive-weekly")
FALLBACK_MODEL_TYPE = "naive-weekly"
FEATURES_NAME = "price_features"
GATE_STREAM_MODEL = "challenger"
"""The ``model`` of the gate's own rolling forecasts of a challenger in ``backtests``."""


GATE_RUN_KEY = "gate_run"
"""Where a registered model names its gate run (``extra``)."""


def gate_run_id(name: str, decided_at: pd.Timestamp, recipe: Mapping[str, Any] | None = None) -> str:
    """The ``backtests`` run that holds the gate's rolling forecasts of a fit of model ``name``
    decided at ``decided_at`` (the challenger, the serving recipe and both naive baselines on the
    same rows). It is written before the model is registered (a run killed in between refits at
    the same time and writes the same rows) and the model names it in ``extra["gate_run"]``.
    Serve calibrates a freshly promoted model's p10/p90 on the challenger's rows until the model's
    own published forecasts have enough known errors; people can query why a model was promoted.
    ``recipe`` (what made the model) tells apart two fits of one name at the same instant (replays)."""
    import hashlib
    import json

    t = pd.Timestamp(decided_at)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    tag = "" if recipe is None else "_" + hashlib.sha1(
        json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"gate_{name}_{t:%Y%m%dT%H%M%S}Z{tag}"


def gate_run_of(model: Any) -> str | None:
    """The gate run a registered model names (None for models registered without one)."""
    run = (getattr(model, "extra", None) or {}).get(GATE_RUN_KEY)
    return str(run) if run else None


@dataclass(frozen=True)
class ModelKey:
    name: str
    version: int

    @classmethod
    def of(cls, model: Model) -> ModelKey:
        """The key of a registered model. ``Model.version`` is None until the model is saved,
        and an unsaved model has no key that serve or the gate could look up again."""
        if model.version is None:
            raise ValidationError(f"model {model.name} is not registered yet (it has no version): "
                                  "save it to the model registry (model.save(path)) before using it")
        return cls(model.name, int(model.version))

    def label(self, other: ModelKey | None = None) -> str:
        """``v4`` when ``other`` has the same name (the reader knows it), else ``name v4``."""
        return f"v{self.version}" if other is not None and other.name == self.name else f"{self.name} v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


def _key(d: Mapping[str, Any] | None) -> ModelKey | None:
    if not d:
        return None
    return ModelKey(str(d["name"]), int(d["version"]))


def make_record(*, zone: str, decision: str, scores: Mapping[str, float | None], origins: int,
                first_origin: str, last_origin: str, rows: int, refit_days: int, decided_at: str,
                serving_before: ModelKey | None = None, serves: ModelKey | None = None,
                role: str = "challenger", challenger: str | None = None,
                serving_recipe: str | None = None, metric: str = "mae") -> dict[str, Any]:
    """A checked decision record (plain JSON). ``serves`` is the model that serves after the
    decision; None means the model the record is stored with. ``scores`` holds the rolling
    ``metric`` of ``challenger``, ``serving`` (None without a serving model) and both baselines,
    all on the same rows. ``serving_recipe`` says how the serving model was scored: ``same``
    (its recipe is the challenger's, so the challenger's backtest is its backtest), ``refit``
    (its recipe was refitted on the same origins) or ``baseline`` (a naive model serves)."""
    if decision not in DECISIONS:
        raise ValidationError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if decision == "recalibrated":
        raise ValidationError("a recalibration copies the record of the gated model it recalibrates: "
                              "use recalibration_record")
    if role not in ROLES:
        raise ValidationError(f"role {role!r} is not one of {', '.join(ROLES)}")
    needed = ("challenger", *BASELINES)
    for k in needed:
        v = scores.get(k)
        if v is None or not math.isfinite(float(v)):
            raise ValidationError(f"the gate's {k} score must be a finite number, got {v!r}")
    if decision == "rejected" and serves is None:
        raise ValidationError("a rejected challenger's record must name the model that keeps serving")
    clean = {k: (None if v is None else float(v)) for k, v in scores.items()}
    return {
        "format": 1, "zone": zone, "role": role, "decision": decision, "metric": metric, "scores": clean,
        "origins": int(origins), "first_origin": first_origin, "last_origin": last_origin, "rows": int(rows),
        "refit_days": int(refit_days), "decided_at": decided_at, "challenger": challenger,
        "serving_before": None if serving_before is None else serving_before.to_dict(),
        "serves": None if serves is None else serves.to_dict(), "serving_recipe": serving_recipe,
    }


RECALIBRATION_KEY = "recalibration"
"""Where a ``recalibrated`` record says what was refitted: ``{"root", "from", "until", "parts"}``."""


def recalibration_record(root_record: Mapping[str, Any], *, root: ModelKey, parent: ModelKey, until: str,
                         parts: list[str], decided_at: str) -> dict[str, Any]:
    """The record of ``parent`` (the serving model) recalibrated: ``parts`` refitted on origins up
    to ``until``, everything else kept. It carries the gate's scores of ``root`` (the gated fit
    whose recipe and expensive members it keeps, ``parent`` itself or the root ``parent``
    recalibrated), since that is the evidence it serves on; it serves itself (``serves`` None)."""
    if root_record.get("decision") != "promoted" or root_record.get("role", "challenger") != "challenger":
        raise ValidationError(f"only a promoted model is recalibrated; {root.label()} was "
                              f"{root_record.get('decision')!r}")
    if not parts:
        raise ValidationError("a recalibration refits at least one part (e.g. linear)")
    return {**dict(root_record), "decision": "recalibrated", "decided_at": decided_at, "serves": None,
            "serving_before": parent.to_dict(),
            RECALIBRATION_KEY: {"root": root.to_dict(), "from": parent.to_dict(), "until": until,
                                "parts": list(parts)}}


def root_of(model: Any) -> ModelKey:
    """The gated fit a registered model stands for: its recalibration root, else the model itself.
    Tracked accuracy and the retrain clock count a model and its recalibrations as one fit."""
    rec = record_of(model) or {}
    root = _key((rec.get(RECALIBRATION_KEY) or {}).get("root")) if rec.get("decision") == "recalibrated" else None
    return root or ModelKey.of(model)


def is_recalibration(model: Any) -> bool:
    return (record_of(model) or {}).get("decision") == "recalibrated"


def record_of(model: Any) -> dict[str, Any] | None:
    """The decision record stored with a registered model (None: registered without the gate)."""
    rec = (getattr(model, "extra", None) or {}).get(RECORD_KEY)
    return rec if isinstance(rec, dict) and rec.get("decision") in DECISIONS else None


def model_zones(model: Any) -> tuple[str, ...]:
    return Lineage.of(model).zones


def model_type(model: Any) -> str:
    return Lineage.of(model).model_type or ""


def trained_on_price_features(model: Any) -> bool:
    """Whether a registered model was trained on price_features: its lineage names the group
    (``features``, or a ``feature_groups`` entry), read as data, not searched as text."""
    return Lineage.of(model).on_price_features


def zone_models(project: Project, zone: str) -> list[Any]:
    """Registered models trained on price_features for ``zone``, oldest registration first."""
    z = zone.upper()
    found = [m for m in project.get_model_registry().get_models()
             if trained_on_price_features(m) and z in model_zones(m)]
    return sorted(found, key=_order)


def _order(m: Any) -> tuple:
    rec = record_of(m) or {}
    created = getattr(m, "created", None)
    when = pd.Timestamp(created) if created is not None else pd.Timestamp.min.tz_localize("UTC")
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    # a fallback naive is registered just before the challenger that names it: on equal times the
    # challenger's record is the newer one
    return (when, rec.get("role") == "challenger", int(m.version or 0))


@dataclass(frozen=True)
class ServingStatus:
    zone: str
    serving: ModelKey | None
    """The model serve loads for the zone (None: nothing is registered)."""
    state: str
    """How the serving model got there: ``promoted`` (passed the gate), ``fallback`` (the weekly
    naive, because nothing beats the naive baselines), ``ungated`` (registered before the gate)
    or ``none``."""
    message: str
    """The newest decision in words, for run/status/fit output, the API and the dashboard."""
    decision: dict[str, Any] | None = None
    """The newest decision record of the zone, with the model it is stored with (``model``)."""
    fallback_reason: str | None = None
    """Why the weekly naive is published instead of a model (forecasts' ``fallback_reason``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"zone": self.zone, "serving": None if self.serving is None else self.serving.to_dict(),
                "state": self.state, "message": self.message, "decision": self.decision,
                "fallback_reason": self.fallback_reason}


def _scores_text(rec: Mapping[str, Any], serving: ModelKey | None, challenger: ModelKey | None) -> str:
    s = rec["scores"]
    parts = []
    if serving is not None and s.get("serving") is not None and rec.get("serving_recipe") != "baseline":
        parts.append(f"serving {serving.label(challenger)} {s['serving']:.2f}")
    parts += [f"{b} {s[b]:.2f}" for b in BASELINES]
    return ", ".join(parts)


def describe(rec: Mapping[str, Any], model: ModelKey) -> str:
    """A decision in words, e.g. ``SE3: challenger v4 rejected: rolling MAE 14.20 over 28 origins
    vs serving v3 13.10, naive-daily 13.60, naive-weekly 15.00; v3 keeps serving``."""
    zone, n, metric = rec["zone"], rec["origins"], str(rec.get("metric", "mae")).upper()
    before = _key(rec.get("serving_before"))
    serves = _key(rec.get("serves")) or model
    if rec["decision"] == "recalibrated":
        r = rec[RECALIBRATION_KEY]
        root = _key(r["root"]) or model
        return (f"{zone}: {model.label()} recalibrated from {(before or root).label(model)} ({', '.join(r['parts'])} "
                f"refitted on origins to {str(r['until'])[:10]}; the rest kept from {root.label(model)}, promoted on "
                f"rolling {metric} {rec['scores']['challenger']:.2f} over {n} origins vs "
                f"{_scores_text(rec, None, model)}); {model.label(model)} serves")
    if rec.get("role") == "fallback":
        return (f"{zone}: no model beats both naive baselines (challenger {rec.get('challenger') or '?'}: rolling "
                f"{metric} {rec['scores']['challenger']:.2f} over {n} origins vs {_scores_text(rec, before, None)}); "
                f"the weekly naive {serves.label()} serves")
    head = (f"{zone}: challenger {model.label()} {'promoted' if rec['decision'] == 'promoted' else 'rejected'}: "
            f"rolling {metric} {rec['scores']['challenger']:.2f} over {n} origins vs {_scores_text(rec, before, model)}")
    if rec["decision"] == "promoted":
        return head + f"; {model.label()} serves" + (f" instead of {before.label(model)}" if before else "")
    if rec["decision"] == "rejected":
        return head + f"; {serves.label(model)} keeps serving"
    return head + f"; no model beats both naive baselines, so the weekly naive {serves.label()} serves"


def fallback_reason(rec: Mapping[str, Any]) -> str:
    """The forecasts' ``fallback_reason`` when the weekly naive serves because of the gate."""
    s = rec["scores"]
    return (f"promotion: no model beats the naive baselines ({rec.get('challenger') or 'challenger'} rolling "
            f"{str(rec.get('metric', 'mae')).upper()} {s['challenger']:.2f} over {rec['origins']} origins vs "
            f"naive-daily {s['naive-daily']:.2f}, naive-weekly {s['naive-weekly']:.2f})")


def serving_status(project: Project, zone: str) -> ServingStatus:
    """Which registered model serves ``zone`` and why, from the newest decision record."""
    z = zone.strip().upper()
    models = zone_models(project, z)
    gated = [m for m in models if record_of(m) is not None]
    if not gated:
        learned = [m for m in models if not model_type(m).startswith("naive")] or models
        if not learned:
            return ServingStatus(z, None, "none", f"{z}: no model is registered yet")
        m = learned[-1]
        key = ModelKey.of(m)
        return ServingStatus(z, key, "ungated", f"{z}: {key.label()} serves without a gate decision "
                             "(registered before the promotion gate; the next fit is gated)")
    newest = gated[-1]
    rec = record_of(newest)
    assert rec is not None
    own = ModelKey.of(newest)
    serving = _key(rec.get("serves")) or own
    by_key = {(m.name, int(m.version)): m for m in models}
    target = by_key.get((serving.name, serving.version))
    target_rec = record_of(target) if target is not None else None
    if target_rec is None:
        state = "ungated"
    elif target_rec["decision"] == "fallback" or target_rec.get("role") == "fallback":
        state = "fallback"
    else:
        state = "promoted"
    message = describe(rec, own)
    reason = fallback_reason(target_rec) if state == "fallback" and target_rec is not None else None
    return ServingStatus(z, serving, state, message, {**rec, "model": own.to_dict()}, reason)
