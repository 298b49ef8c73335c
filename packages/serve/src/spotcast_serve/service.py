"""The serve stage's work against the store: forecasting, reading forecasts, accuracy.

All I/O goes through the storage API; the transformations live in
:mod:`spotcast_serve.forecast` and :mod:`spotcast_serve.accuracy`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from spotcast_serve import accuracy as acc
from spotcast_serve import forecast as fc
from spotcast_serve.outputs import ForecastOutput, select_writers, write_outputs
from spotcast_storage.contracts import ZONE_TIMEZONES
from spotcast_storage.contracts.features import PRICE_FEATURES
from spotcast_storage.contracts.forecasts import FORECASTS
from spotcast_storage.errors import NotFoundError, SpotcastError, ValidationError

FEATURES_NAME, FEATURES_VERSION = PRICE_FEATURES.name, PRICE_FEATURES.version
DEFAULT_DAYS = 7
_ZONE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{1,15}$")  # SE3, FI, DE-LU, IT-NORD


class Predictor(Protocol):
    """What `predict` needs from a model: p10/p50/p90 for each feature row."""

    def predict(self, X: pd.DataFrame) -> pd.DataFrame: ...


class UnknownZoneError(NotFoundError):
    """A zone spotcast has neither a calendar nor any data for."""


class NoForecastError(NotFoundError):
    """A known zone without (matching) stored forecasts."""


def normalise_zone(zone: str) -> str:
    z = (zone or "").strip().upper()
    if not _ZONE_RE.match(z):
        raise ValidationError(f"zone {zone!r} is not a bidding-zone code; use e.g. SE3, DK1, NO2, FI")
    return z


# -- reading the store ----------------------------------------------------------------------
def _fg(project: Any, name: str, version: int) -> Any:
    return project.get_feature_store().get_feature_group(name, version)


def _fg_or_none(project: Any, name: str, version: int) -> Any | None:
    try:
        return _fg(project, name, version)
    except NotFoundError:
        return None


def zones_with(project: Any, name: str, version: int) -> list[str]:
    fg = _fg_or_none(project, name, version)
    if fg is None:
        return []
    return sorted(fg.select(["zone"]).read()["zone"].unique().tolist())


def known_zones(project: Any) -> list[str]:
    """Zones spotcast has a calendar for, plus any zone with features, forecasts or actuals."""
    found = set(ZONE_TIMEZONES)
    for name, version in ((FEATURES_NAME, FEATURES_VERSION), (FORECASTS.name, FORECASTS.version),
                          (acc.ACTUALS_NAME, acc.ACTUALS_VERSION)):
        found.update(zones_with(project, name, version))
    return sorted(found)


def check_known_zone(project: Any, zone: str) -> str:
    z = normalise_zone(zone)
    if z in ZONE_TIMEZONES:
        return z
    zones = known_zones(project)
    if z not in zones:
        raise UnknownZoneError(f"unknown zone {z!r}; known zones: {', '.join(zones)}")
    return z


def origins(project: Any, zone: str, name: str = FORECASTS.name, version: int = FORECASTS.version) -> list[pd.Timestamp]:
    """The distinct origins stored for ``zone`` in a (zone, origin, ts)-keyed group, oldest first."""
    fg = _fg_or_none(project, name, version)
    if fg is None:
        return []
    df = fg.select(["zone", "origin"]).filter(fg.zone == zone).read()
    return sorted(pd.to_datetime(df["origin"], utc=True).unique().tolist())


def _rows_at(fg: Any, zone: str, origin: pd.Timestamp) -> pd.DataFrame:
    return fg.filter((fg.zone == zone) & (fg.origin == origin)).read().sort_values("ts", ignore_index=True)


def resolve_origin(project: Any, zone: str, origin: str | pd.Timestamp | None) -> pd.Timestamp:
    """The stored forecast origin ``origin`` names: a time, a local date (YYYY-MM-DD: that
    day's newest origin) or None (the newest)."""
    have = origins(project, zone)
    if not have:
        hint = f"run `spotcast-serve predict --zone {zone}`"
        if not zones_with(project, FEATURES_NAME, FEATURES_VERSION):
            hint = "build features and train a model first, then " + hint
        raise NoForecastError(f"no forecasts stored for zone {zone} yet; {hint}")
    if origin is None:
        return have[-1]
    tz = fc.zone_timezone(zone)
    if isinstance(origin, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", origin.strip()):
        try:
            day = pd.Timestamp(origin.strip()).date()
        except ValueError as exc:
            raise ValidationError(f"origin {origin!r} is not a date: {exc}") from None
        match = [o for o in have if o.tz_convert(tz).date() == day]
        if match:
            return match[-1]
    else:
        from spotcast_storage.query import to_utc_timestamp

        t = to_utc_timestamp(origin, name="origin")
        if t in have:
            return t
    recent = ", ".join(o.tz_convert(tz).strftime("%Y-%m-%d %H:%M") for o in have[-5:])
    raise NoForecastError(f"no forecast for zone {zone} from origin {origin}; newest origins ({tz}): {recent}")


def read_forecast(project: Any, zone: str, origin: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """One origin's stored forecast for ``zone`` (the newest when ``origin`` is None)."""
    z = check_known_zone(project, zone)
    o = resolve_origin(project, z, origin)
    return _rows_at(FORECASTS.get(project.get_feature_store()), z, o)


def read_actuals(project: Any, zone: str, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Hourly actual prices (``prices_hourly``) for ``zone`` in ``[start, end)``; empty when none."""
    fg = _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION)
    if fg is None:
        return _empty_actuals()
    query = fg.select(["zone", "ts", "price_eur_mwh"]).filter(fg.zone == zone)
    if start is not None:
        query = query.filter(fg.ts >= start)
    if end is not None:
        query = query.filter(fg.ts < end)
    return query.read().sort_values("ts", ignore_index=True)


# -- models -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int
    path: str
    zones: tuple[str, ...] = ()


def parse_model_spec(spec: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME:VERSION``."""
    name, _, ver = spec.strip().partition(":")
    if not name:
        raise ValidationError(f"--model {spec!r}: give NAME or NAME:VERSION, e.g. price_xgboost_se3:2")
    if not ver:
        return name, None
    if not ver.isdigit() or int(ver) < 1:
        raise ValidationError(f"--model {spec!r}: the version after ':' must be a positive integer")
    return name, int(ver)


def _model_zones(m: Any) -> tuple[str, ...]:
    """The zones a registered model says it was trained for (empty: it does not say)."""
    for source in (getattr(m, "lineage", {}) or {}, getattr(m, "extra", {}) or {}):
        z = source.get("zones", source.get("zone"))
        if isinstance(z, str):
            return (z.upper(),)
        if isinstance(z, (list, tuple)):
            return tuple(str(x).upper() for x in z)
    return ()


def _uses_price_features(m: Any) -> bool:
    lineage = getattr(m, "lineage", {}) or {}
    text = repr(lineage) + repr(getattr(m, "extra", {}) or {})
    return FEATURES_NAME in text


def _is_naive(m: Any) -> bool:
    """A registered naive baseline (train registers them beside the learned models)."""
    try:
        from spotcast_storage.modelformat import read_spec

        return read_spec(m.download()).kind == "naive"
    except (ImportError, SpotcastError, OSError):
        return False


def resolve_model(project: Any, zone: str, spec: str | None = None) -> ModelRef:
    """The pinned model (``NAME[:VERSION]``, newest version when none) or else the model the
    promotion gate says serves ``zone`` (spotcast_storage.promotion.serving_status: the newest
    promoted one, or the weekly naive when nothing beats the naive baselines; for models registered
    before the gate, the newest learned model trained on price_features that covers ``zone``)."""
    registry = project.get_model_registry()
    from spotcast_storage.promotion import serving_status

    serving = None if spec else serving_status(project, zone).serving  # the promotion gate's choice
    if spec:
        name, version = parse_model_spec(spec)
        m = registry.get_model(name, version)
    elif serving is not None:
        m = registry.get_model(serving.name, serving.version)
    else:
        candidates = [m for m in registry.get_models() if _uses_price_features(m)
                      and (not _model_zones(m) or zone in _model_zones(m))]
        if not candidates:
            have = sorted({m.name for m in registry.get_models()})
            raise NotFoundError(
                f"no registered model trained on {FEATURES_NAME} covers zone {zone}"
                + (f" (registered: {', '.join(have)}); pin one with --model NAME[:VERSION]" if have
                   else f"; train one first: `spotcast-train fit --zone {zone}`")
            )
        m = max(candidates, key=lambda m: (not _is_naive(m), m.created, m.version))
    zones = _model_zones(m)
    if zones and zone not in zones:
        raise ValidationError(f"model {m.name} v{m.version} was trained for {', '.join(zones)}, not {zone}")
    return ModelRef(m.name, int(m.version), m.download(), zones)


_predictors: dict[str, Predictor] = {}
_predictors_lock = threading.Lock()


def load_predictor(ref: ModelRef) -> Predictor:
    """The model's predictor, loaded once per process (artifacts of a version never change)."""
    with _predictors_lock:
        p = _predictors.get(ref.path)
        if p is None:
            try:
                from spotcast_storage.modelformat import load_predictor as _load
            except ImportError:  # pragma: no cover - depends on the installed storage version
                raise SpotcastError(
                    "this spotcast-storage has no modelformat module, so registered models cannot be "
                    "loaded; upgrade spotcast-storage"
                ) from None
            p = _predictors[ref.path] = _load(ref.path)
        return p


# -- predict ----------------------------------------------------------------------------------
@dataclass
class PredictResult:
    zone: str
    origin: pd.Timestamp
    model: str
    model_version: int
    written: bool
    forecast: pd.DataFrame
    daily: pd.DataFrame
    commit_id: int | None = None
    files: list[Path] = field(default_factory=list)
    missing_hours: int = 0

    def summary(self) -> str:
        what = (f"wrote {len(self.forecast)} forecast rows (commit {self.commit_id})" if self.written
                else f"unchanged ({len(self.forecast)} rows already stored)")
        if self.missing_hours:
            what += f"; {self.missing_hours} hour(s) left out: the model gave no median (missing inputs)"
        return (f"{self.zone} origin {self.origin.isoformat()} with {self.model} v{self.model_version}: {what}")


def newest_feature_rows(project: Any, zone: str) -> pd.DataFrame:
    """The newest origin's price_features rows for ``zone``."""
    fg = _fg_or_none(project, FEATURES_NAME, FEATURES_VERSION)
    if fg is None:
        raise NotFoundError(
            f"the store has no {FEATURES_NAME} v{FEATURES_VERSION} yet; build features first "
            f"(`spotcast-features build --zone {zone}`)"
        )
    have = origins(project, zone, FEATURES_NAME, FEATURES_VERSION)
    if not have:
        zones = zones_with(project, FEATURES_NAME, FEATURES_VERSION)
        raise NotFoundError(
            f"{FEATURES_NAME} has no rows for zone {zone}"
            + (f"; zones with features: {', '.join(zones)}" if zones else "")
            + f". Build them with `spotcast-features build --zone {zone}`"
        )
    return _rows_at(fg, zone, have[-1])


def forecast_origin(project: Any, zone: str, rows: pd.DataFrame, predictor: Predictor, model: ModelRef, *,
                    days: int = DEFAULT_DAYS, now: pd.Timestamp | None = None) -> PredictResult:
    """Forecast one origin's feature rows and store them, unless the store already holds
    exactly this forecast (same hours, model version and values): re-running writes nothing."""
    tz = fc.zone_timezone(zone)
    rows = fc.limit_horizon(rows, days, tz)
    if rows.empty:
        raise ValidationError(f"the newest origin of zone {zone} has no target hours within {days} day(s)")
    origin = pd.Timestamp(rows["origin"].iloc[0])
    pred = predictor.predict(rows)
    created = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC").floor("us")
    new = fc.build_forecasts(rows, pred, model=model.name, model_version=model.version, created_at=created)

    fg = _fg_or_none(project, FORECASTS.name, FORECASTS.version)
    if fg is None:
        fg = FORECASTS.get_or_create(project.get_feature_store())
    else:
        old = _rows_at(fg, zone, origin)
        old = old[old["ts"].isin(new["ts"])]
        if fc.same_forecast(new, old):
            stored = old.sort_values("ts", ignore_index=True)
            return PredictResult(zone, origin, model.name, model.version, False, stored, fc.daily_means(stored, tz),
                                 missing_hours=len(rows) - len(new))
    commit = fg.insert(new)
    return PredictResult(zone, origin, model.name, model.version, True, new, fc.daily_means(new, tz),
                         commit_id=commit.commit_id, missing_hours=len(rows) - len(new))


def predict(project: Any, zone: str, *, days: int = DEFAULT_DAYS, model: str | None = None,
            outputs: Path | None = Path("outputs"), formats: Sequence[str] | None = None,
            now: pd.Timestamp | None = None) -> PredictResult:
    """Newest (or pinned) model x newest origin's features -> ``forecasts`` v1, plus files.

    Everything that can be rejected (zone, days, model, output formats) is checked before
    anything is written.
    """
    z = normalise_zone(zone)
    if days < 1:
        raise ValidationError(f"--days must be at least 1, got {days}")
    writers = select_writers(formats) if outputs is not None else []
    rows = newest_feature_rows(project, z)
    ref = resolve_model(project, z, model)
    result = forecast_origin(project, z, rows, load_predictor(ref), ref, days=days, now=now)
    if outputs is not None:
        result.files = write_outputs(make_output(result, Path(outputs)), writers, keep_existing=not result.written)
    ensure_accuracy_view(project)
    return result


def make_output(result: PredictResult, outputs_dir: Path) -> ForecastOutput:
    tz = fc.zone_timezone(result.zone)
    return ForecastOutput(zone=result.zone, origin=result.origin, tz=tz,
                          table=fc.forecast_table(result.forecast, tz), daily=result.daily,
                          model=result.model, model_version=result.model_version, outputs_dir=outputs_dir)


# -- accuracy ---------------------------------------------------------------------------------
_views_ensured: set[str] = set()


def ensure_accuracy_view(project: Any) -> bool:
    """Create (or refresh) the ``forecast_accuracy`` SQL view on the local backend once both
    of its tables exist; leaves an identical view alone so a re-run changes nothing.
    Checked once per store and process."""
    if getattr(project, "mode", None) != "local":
        return False
    if str(project.path) in _views_ensured:
        return True
    tables = set(project.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")["table_name"])
    if not {acc.FORECASTS_TABLE, acc.ACTUALS_TABLE} <= tables:
        return False
    sql = acc.rows_sql()
    current = project.sql("SELECT sql FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?",
                          [acc.VIEW_NAME])
    if current.empty or sql not in str(current["sql"].iloc[0]):
        project.create_sql_view(acc.VIEW_NAME, sql)
    _views_ensured.add(str(project.path))
    return True


def accuracy(project: Any, zone: str, days: int = 30) -> acc.AccuracyReport:
    """Forecasts joined with the actual prices known so far for ``zone``, newest ``days`` origin days."""
    z = check_known_zone(project, zone)
    if days < 1:
        raise ValidationError(f"--days must be at least 1, got {days}")
    if not origins(project, z):
        raise NoForecastError(f"no forecasts stored for zone {z} yet; run `spotcast-serve predict --zone {z}`")
    if getattr(project, "mode", None) == "local":
        if _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION) is None:
            return acc.run_on_frames(_empty_forecasts(), _empty_actuals(), z, days)
        return acc.run_in_store(project.sql, z, days)
    fs = project.get_feature_store()
    fg = FORECASTS.get(fs)
    return acc.run_on_frames(fg.filter(fg.zone == z).read(), read_actuals(project, z), z, days)


def _empty_forecasts() -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=_dtype(c.type)) for c in FORECASTS.columns})


def _empty_actuals() -> pd.DataFrame:
    return pd.DataFrame({"zone": pd.Series(dtype="str"), "ts": pd.Series(dtype="datetime64[us, UTC]"),
                         "price_eur_mwh": pd.Series(dtype="float64")})


def _dtype(t: str) -> str:
    return {"string": "str", "timestamp": "datetime64[us, UTC]", "double": "float64", "bigint": "int64"}[t]


# -- listings ---------------------------------------------------------------------------------
def zones_overview(project: Any) -> pd.DataFrame:
    """Per zone with features or forecasts: newest feature origin, newest forecast origin, rows."""
    out: dict[str, dict[str, Any]] = {}
    for key, (name, version) in {"features": (FEATURES_NAME, FEATURES_VERSION),
                                 "forecast": (FORECASTS.name, FORECASTS.version)}.items():
        fg = _fg_or_none(project, name, version)
        if fg is None:
            continue
        df = fg.select(["zone", "origin"]).read()
        for zone, g in df.groupby("zone"):
            d = out.setdefault(str(zone), {"zone": str(zone)})
            d[f"newest_{key}_origin"] = pd.Timestamp(g["origin"].max())
            d[f"{key}_origins"] = int(g["origin"].nunique())
    cols = ["zone", "timezone", "newest_features_origin", "features_origins", "newest_forecast_origin",
            "forecast_origins"]
    frame = pd.DataFrame(sorted(out.values(), key=lambda d: d["zone"]), columns=cols)
    frame["timezone"] = frame["zone"].map(fc.zone_timezone)
    for c in ("features_origins", "forecast_origins"):
        frame[c] = frame[c].fillna(0).astype("int64")
    return frame


def models_overview(project: Any) -> list[dict[str, Any]]:
    """Registered models with metrics and lineage (newest first)."""
    models = project.get_model_registry().get_models()
    out = []
    for m in sorted(models, key=lambda m: (m.created, m.version), reverse=True):
        d = m.to_dict() if hasattr(m, "to_dict") else {"name": m.name, "version": m.version}
        d.pop("artifact_path", None)
        d["zones"] = list(_model_zones(m))
        d["trained_on_price_features"] = _uses_price_features(m)
        out.append(d)
    return out


def accuracy_chart(report: acc.AccuracyReport, outputs_dir: Path) -> Path:
    """``outputs/accuracy_<zone>_<newest origin date>.png``: predicted vs actual and MAE."""
    from spotcast_serve.charts import accuracy_png

    ov = report.overall.iloc[0]
    title = (f"{report.zone}: forecasts from {ov['first_origin_date']} to {ov['last_origin_date']} vs actual "
             f"(MAE {ov['mae']:.2f} EUR/MWh over {int(ov['hours'])} hours)")
    path = Path(outputs_dir) / f"accuracy_{report.zone}_{ov['last_origin_date']}.png"
    return accuracy_png(report.pairs, report.by_horizon, report.by_origin, path, title,
                        fc.zone_timezone(report.zone))
