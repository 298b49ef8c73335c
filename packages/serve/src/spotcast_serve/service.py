"""The serve stage's work against the store: forecasting, reading forecasts, accuracy.

All I/O goes through the storage API; the transformations live in
:mod:`spotcast_serve.forecast` and :mod:`spotcast_serve.accuracy`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from spotcast_serve import accuracy as acc
from spotcast_serve import forecast as fc
from spotcast_serve import labels, units
from spotcast_serve.defaults import DEFAULT_DAYS
from spotcast_serve.outputs import ForecastOutput, select_writers, write_outputs
from spotcast_storage import quarters
from spotcast_storage.contracts import DATA_QUALITY, EXOGENOUS, PRICES, WEATHER
from spotcast_storage.contracts.backtests import BACKTESTS
from spotcast_storage.contracts.features import PRICE_FEATURES
from spotcast_storage.contracts.forecasts import FORECASTS, read_source, run_on_frame, vintages_sql
from spotcast_storage.errors import NotFoundError, SpotcastError, ValidationError
from spotcast_storage.lineage import Lineage
from spotcast_storage.promotion import (
    GATE_STREAM_MODEL,
    ModelKey,
    gate_run_of,
    model_zones,
    serving_status,
    trained_on_price_features,
)
from spotcast_storage.text import plural
from spotcast_storage.zones import ZONES, parse_zone
from spotcast_storage.zones import UnknownZoneError as ZoneTableError

if TYPE_CHECKING:
    from spotcast_storage.protocols import Project

FEATURES_NAME, FEATURES_VERSION = PRICE_FEATURES.name, PRICE_FEATURES.version


class Predictor(Protocol):
    """What `predict` needs from a model: p10/p50/p90 for each feature row."""

    def predict(self, X: pd.DataFrame) -> pd.DataFrame: ...


class UnknownZoneError(NotFoundError):
    """A zone that is not in the zone table (``spotcast_storage.zones``): not found (HTTP 404)."""


class NoForecastError(NotFoundError):
    """A known zone without (matching) stored forecasts."""


def normalise_zone(zone: str) -> str:
    """The zone's code from the zone table (``de_lu`` -> ``DE-LU``); an unknown zone is
    :class:`UnknownZoneError` with the table's message."""
    try:
        return parse_zone(zone).code
    except ZoneTableError as exc:
        raise UnknownZoneError(str(exc)) from None


# -- reading the store ----------------------------------------------------------------------
def _fg(project: Project, name: str, version: int) -> Any:
    return project.get_feature_store().get_feature_group(name, version)


def _fg_or_none(project: Project, name: str, version: int) -> Any | None:
    try:
        return _fg(project, name, version)
    except NotFoundError:
        return None


def zones_with(project: Project, name: str, version: int) -> list[str]:
    fg = _fg_or_none(project, name, version)
    if fg is None:
        return []
    return sorted(fg.select(["zone"]).read()["zone"].unique().tolist())


INGEST_DEFAULT_HISTORY_DAYS = 730  # `spotcast-ingest update --history-days`' default


def ingest_hint(project: Project, zone: str) -> str:
    """The `spotcast-ingest update` command that brings ``zone``'s prices and weather into this
    store, so that an error about a zone that was never ingested names a command that works:
    with ``--source synthetic`` when the store's prices are synthetic (the zone table's real
    sources would need the network and, once a synthetic zone is there, mix real data into a demo
    store), and ``--history-days`` matching the history the store already holds."""
    fg = _fg_or_none(project, PRICES.name, PRICES.version)
    stored = pd.DataFrame(columns=["ts", "source"]) if fg is None else fg.select(["ts", "source"]).read()
    cmd = f"spotcast-ingest update --zone {zone}"
    if (stored["source"] == "synthetic").any():
        cmd += " --source synthetic"
    if not stored.empty:
        first = pd.to_datetime(stored["ts"], utc=True).min()
        days = max(1, int(-(-(pd.Timestamp.now(tz="UTC") - first) // pd.Timedelta(days=1))))
        if days < INGEST_DEFAULT_HISTORY_DAYS:
            cmd += f" --history-days {days}"
    return f"`{cmd}`"


def next_step(project: Project, zone: str) -> str:
    """The command that takes ``zone`` one stage closer to a forecast in this store (ingest,
    then build features, then train, then predict): what an error about a missing forecast,
    feature row or model suggests, so that following the hint makes progress."""
    if zone not in zones_with(project, FEATURES_NAME, FEATURES_VERSION):
        if zone not in zones_with(project, PRICES.name, PRICES.version):
            return f"{zone} was never ingested; ingest it first: {ingest_hint(project, zone)}"
        return f"build its features first: `spotcast-features build --zone {zone}`"
    if not _models_for(project, zone):
        return f"train a model for it first: `spotcast-train fit --zone {zone}`"
    return f"run `spotcast-serve predict --zone {zone}`"


def forecast_zones(project: Project) -> list[str]:
    """Zones with stored forecasts (in the current contract version or the one it upgrades)."""
    src = FORECASTS.source(project.get_feature_store())
    return [] if src is None else sorted(src[0].select(["zone"]).read()["zone"].unique().tolist())


def known_zones(project: Project) -> list[str]:
    """The zone table's zones, plus any zone with features, forecasts or actuals."""
    found = set(ZONES) | set(forecast_zones(project))
    for name, version in ((FEATURES_NAME, FEATURES_VERSION), (acc.ACTUALS_NAME, acc.ACTUALS_VERSION)):
        found.update(zones_with(project, name, version))
    return sorted(found)


def check_known_zone(project: Project, zone: str) -> str:
    return normalise_zone(zone)


def _origins_of(fg: Any | None, zone: str) -> list[pd.Timestamp]:
    if fg is None:
        return []
    df = fg.select(["zone", "origin"]).filter(fg.zone == zone).read()
    return sorted(pd.to_datetime(df["origin"], utc=True).unique().tolist())


def origins(project: Project, zone: str) -> list[pd.Timestamp]:
    """The distinct forecast origins stored for ``zone``, oldest first."""
    src = FORECASTS.source(project.get_feature_store())
    return [] if src is None else _origins_of(src[0], zone)


def _rows_at(fg: Any, zone: str, origin: pd.Timestamp) -> pd.DataFrame:
    return fg.filter((fg.zone == zone) & (fg.origin == origin)).read().sort_values("ts", ignore_index=True)


def stored_rows(project: Project, zone: str, origin: pd.Timestamp | None = None,
                resolution: int | None = 60) -> pd.DataFrame:
    """Every stored vintage row of ``zone`` (of one origin when given) at ``resolution`` minutes
    (None: hourly and quarter-hour rows), as ``forecasts`` v3 rows."""
    src = FORECASTS.source(project.get_feature_store())
    if src is None:
        return _empty_forecasts()
    fg = src[0]
    cond = fg.zone == zone
    if origin is not None:
        cond = cond & (fg.origin == origin)
    rows = read_source(src, cond, resolution)
    return rows.sort_values(["origin", "made_at", "resolution_minutes", "ts"], ascending=[True, True, False, True],
                            ignore_index=True)


def with_vintages(rows: pd.DataFrame, resolution: int = 60) -> pd.DataFrame:
    """``rows`` at ``resolution`` minutes with the vintage columns of
    :func:`spotcast_storage.contracts.forecasts.vintages_sql` (ranked on the hourly rows, so
    ``rows`` must hold a vintage's hourly rows to rank its quarter-hours)."""
    if rows.empty:
        return rows.assign(vintage=pd.Series(dtype="int64"), vintages=pd.Series(dtype="int64"),
                           first_delivery_day=pd.Series(dtype="str"),
                           gate_closure=pd.Series(dtype="datetime64[us, UTC]"),
                           on_time=pd.Series(dtype="bool"), published=pd.Series(dtype="bool"))
    out = run_on_frame(vintages_sql("_forecasts", resolution=resolution), rows)
    return out.sort_values(["origin", "made_at", "ts"], ignore_index=True)


def published_of(rows: pd.DataFrame, resolution: int = 60) -> pd.DataFrame:
    """The published vintage's rows at ``resolution`` minutes (with the vintage columns) among
    stored ``rows``."""
    v = with_vintages(rows, resolution)
    return v[v["published"].astype(bool)].sort_values(["origin", "ts"], ignore_index=True)


def resolve_origin(project: Project, zone: str, origin: str | pd.Timestamp | None) -> pd.Timestamp:
    """The stored forecast origin ``origin`` names: a time, a local date (YYYY-MM-DD: that
    day's newest origin) or None (the newest)."""
    have = origins(project, zone)
    if not have:
        raise NoForecastError(f"no forecasts stored for zone {zone} yet; {next_step(project, zone)}")
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


def read_forecast(project: Project, zone: str, origin: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The published vintage of one origin's forecast for ``zone`` (the newest origin when
    ``origin`` is None), with its vintage columns (``vintage``, ``on_time``, ``gate_closure``, ...)."""
    z = check_known_zone(project, zone)
    o = resolve_origin(project, z, origin)
    return published_of(stored_rows(project, z, o))


def read_vintages(project: Project, zone: str, origin: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Every vintage of one origin (newest origin when None): one row per vintage with when it was
    made, its model or fallback reason, whether it was made before the gate closure and which
    one is published."""
    z = check_known_zone(project, zone)
    o = resolve_origin(project, z, origin)
    v = with_vintages(stored_rows(project, z, o))
    g = v.groupby(["zone", "origin", "vintage"], as_index=False, sort=True).agg(  # hourly rows: hours
        made_at=("made_at", "first"), hours=("ts", "size"), mean_p50=("p50", "mean"), model=("model", "first"),
        model_version=("model_version", "first"), fallback_reason=("fallback_reason", "first"),
        gate_closure=("gate_closure", "first"), on_time=("on_time", "first"), published=("published", "first"))
    return g


def read_actuals(project: Project, zone: str, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None, known_by: pd.Timestamp | None = None) -> pd.DataFrame:
    """Hourly actual prices (``prices_hourly``) for ``zone`` in ``[start, end)``, only those
    published by ``known_by`` when given; empty when none."""
    fg = _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION)
    if fg is None:
        return _empty_actuals()
    query = fg.select(["zone", "ts", "price_eur_mwh"]).filter(fg.zone == zone)
    if start is not None:
        query = query.filter(fg.ts >= start)
    if end is not None:
        query = query.filter(fg.ts < end)
    if known_by is not None:
        query = query.filter(fg["known_at"] <= known_by)
    return query.read().sort_values("ts", ignore_index=True)


def read_rates(project: Project, zone: str, start: pd.Timestamp, end: pd.Timestamp,
               known_by: pd.Timestamp | None = None) -> pd.DataFrame:
    """The source's EUR/SEK rate per local delivery day of ``zone`` from ``prices`` (periods with
    both a EUR and a SEK price) in ``[start, end)``, published by ``known_by`` when given."""
    fg = _fg_or_none(project, PRICES.name, PRICES.version)
    if fg is None:
        return units.daily_rates(pd.DataFrame(columns=["ts", "price_eur_mwh", "price_sek_kwh"]), "UTC")
    query = fg.select(["zone", "ts", "price_eur_mwh", "price_sek_kwh"]).filter(
        (fg.zone == zone) & (fg.ts >= start) & (fg.ts < end))
    if known_by is not None:
        query = query.filter(fg["known_at"] <= known_by)
    return units.daily_rates(query.read(), fc.zone_timezone(zone))


def day_rates_for(project: Project, zone: str, table: pd.DataFrame, known_by: pd.Timestamp | None) -> pd.DataFrame:
    """The rate used for each local delivery day of ``table`` (see :func:`units.rates_for_days`)."""
    tz = fc.zone_timezone(zone)
    ts = pd.to_datetime(table["ts"], utc=True)
    days = ts.dt.tz_convert(tz).dt.date.astype("str").unique().tolist()
    start = ts.min() - pd.Timedelta(days=units.MAX_RATE_AGE_DAYS + 1)
    return units.rates_for_days(read_rates(project, zone, start, ts.max() + pd.Timedelta(hours=1), known_by),
                                days, zone)


def quarter_since(project: Project, zone: str) -> pd.Timestamp | None:
    """The first quarter-hour delivery period stored for ``zone`` (None: it clears hourly, or
    no 15-minute prices were ingested): from there on its forecasts are published at 15 minutes too."""
    return quarters.first_quarter_hours(project.get_feature_store(), zone).get(zone)


def read_quarter_prices(project: Project, zone: str, start: pd.Timestamp, end: pd.Timestamp,
                        known_by: pd.Timestamp | None = None) -> pd.DataFrame:
    """The 15-minute prices of ``zone`` in ``[start, end)`` (``ts``, ``price_eur_mwh``), only
    those published by ``known_by`` when given."""
    fg = _fg_or_none(project, PRICES.name, PRICES.version)
    if fg is None:
        return _empty_actuals()
    query = fg.select(["zone", "ts", "price_eur_mwh"]).filter(
        (fg.zone == zone) & (fg.resolution_minutes == 15) & (fg.ts >= start) & (fg.ts < end))
    if known_by is not None:
        query = query.filter(fg["known_at"] <= known_by)
    return query.read().sort_values("ts", ignore_index=True)


def quarter_rows(project: Project, zone: str, published: pd.DataFrame) -> pd.DataFrame:
    """The stored quarter-hour rows of ``published`` (an origin's published hourly vintage, with
    its vintage columns): written with it when it was made (:func:`spotcast_storage.quarters.vintage_rows`),
    so they never change. A clear error where the zone or the vintage has no quarter-hours."""
    since = quarter_since(project, zone)
    if since is None:
        raise ValidationError(
            f"{zone} has no quarter-hour prices stored, so its forecasts are hourly only: ask for "
            "resolution=60min (quarter-hours start with the first 15-minute prices ingested, "
            "2025-10-01 in the Nordic day-ahead market)")
    origin, made = pd.Timestamp(published["origin"].iloc[0]), pd.Timestamp(published["made_at"].iloc[0])
    rows = stored_rows(project, zone, origin, resolution=15)
    rows = rows[rows["made_at"] == made]
    if rows.empty:
        raise ValidationError(
            f"this forecast of {zone} (made {made.isoformat()}) has no quarter-hours stored: it is hourly only "
            f"(it ends before the zone's first quarter-hour price, {since.isoformat()}, or was made before "
            "quarter-hours were stored); ask for resolution=60min or a newer origin")
    vcols = ["vintage", "vintages", "first_delivery_day", "gate_closure", "on_time", "published"]
    return rows.assign(**{c: published[c].iloc[0] for c in vcols if c in published}).reset_index(drop=True)


def published_table(project: Project, zone: str, published: pd.DataFrame,
                    unit: units.Unit | None = None, resolution: int = 60) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The published vintage as its file shows it: the forecast, the actual prices already
    published when it was made, in ``unit`` (EUR/MWh by default); and the day rates used.
    ``resolution`` 15: the quarter-hours of the vintage beside the 15-minute actual prices."""
    tz = fc.zone_timezone(zone)
    made = pd.Timestamp(published["made_at"].iloc[0])
    origin = pd.Timestamp(published["origin"].iloc[0])
    start = origin.tz_convert(tz).normalize().tz_convert("UTC")
    end = pd.to_datetime(published["ts"], utc=True).max() + pd.Timedelta(hours=1)
    if resolution == 15:
        published = quarter_rows(project, zone, published)
        actuals = read_quarter_prices(project, zone, start, end, known_by=made)
    else:
        actuals = read_actuals(project, zone, start=start, end=end, known_by=made)
    table = fc.forecast_table(published, tz, actuals)
    table.insert(table.columns.get_loc("ts_local") + 1, "resolution_minutes", resolution)
    unit = unit or units.UNITS[units.DEFAULT_UNIT]
    rates = day_rates_for(project, zone, table, made) if unit.needs_rate else None
    return units.convert_table(table, unit, rates, tz), rates


# -- models -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int
    path: str
    zones: tuple[str, ...] = ()
    features_version: int = FEATURES_VERSION
    """The price_features version the model was trained on: the rows serve feeds it."""


def features_version_of(m: Any) -> int:
    """The price_features version a registered model was trained on (its lineage; v1 for models
    registered before lineage recorded it)."""
    return Lineage.of(m).features_version(FEATURES_VERSION)


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


def _is_naive(m: Any) -> bool:
    """A registered naive baseline (train registers them beside the learned models)."""
    try:
        from spotcast_storage.boosted import read_spec

        return read_spec(m.download()).kind == "naive"
    except (ImportError, SpotcastError, OSError):
        return False


def _models_for(project: Project, zone: str) -> list[Any]:
    """Registered models trained on price_features that cover ``zone`` (or every zone)."""
    return [m for m in project.get_model_registry().get_models() if trained_on_price_features(m)
            and (not model_zones(m) or zone in model_zones(m))]


def resolve_model(project: Project, zone: str, spec: str | None = None) -> ModelRef:
    """The pinned model (``NAME[:VERSION]``, newest version when none) or else the model the
    promotion gate says serves ``zone`` (spotcast_storage.promotion.serving_status: the newest
    promoted one, or the weekly naive when nothing beats the naive baselines; for models registered
    before the gate, the newest learned model trained on price_features that covers ``zone``)."""
    registry = project.get_model_registry()

    serving = None if spec else serving_status(project, zone).serving  # the promotion gate's choice
    if spec:
        name, version = parse_model_spec(spec)
        m = registry.get_model(name, version)
    elif serving is not None:
        m = registry.get_model(serving.name, serving.version)
    else:
        candidates = _models_for(project, zone)
        if not candidates:
            # a model of another zone is refused below, so the only hint that works is training one
            have = sorted({m.name for m in registry.get_models()})
            raise NotFoundError(
                f"no registered model trained on {FEATURES_NAME} covers zone {zone}"
                + (f" (registered: {', '.join(have)})" if have else "")
                + f"; train one first: `spotcast-train fit --zone {zone}`"
            )
        m = max(candidates, key=lambda m: (not _is_naive(m), m.created, m.version))
    zones = model_zones(m)
    if zones and zone not in zones:
        raise ValidationError(f"model {m.name} v{m.version} was trained for {', '.join(zones)}, not {zone}")
    key = ModelKey.of(m)
    return ModelRef(key.name, key.version, m.download(), zones, features_version_of(m))


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
    forecast: pd.DataFrame  # the vintage this run made (or the stored one it matched)
    daily: pd.DataFrame
    published: pd.DataFrame  # the origin's published vintage, with the vintage columns
    made_at: pd.Timestamp
    fallback_reason: str | None = None
    commit_id: int | None = None
    files: list[Path] = field(default_factory=list)
    files_kept: list[Path] = field(default_factory=list)  # among ``files``: already there, left alone
    missing_hours: int = 0
    unit: str = units.DEFAULT_UNIT
    rates: str = ""
    quarter_rows: int = 0
    """Quarter-hour rows written with the vintage (0: an hourly zone, or nothing written)."""

    def summary(self) -> str:
        tz = fc.zone_timezone(self.zone)
        made = labels.made_label(self.made_at, tz)
        quarters_too = f" and {self.quarter_rows} quarter-hours" if self.quarter_rows else ""
        what = (f"wrote {len(self.forecast)} forecast rows{quarters_too} as a new vintage made {made} "
                f"(commit {self.commit_id})"
                if self.written else f"unchanged ({len(self.forecast)} rows already stored as made "
                f"{labels.made_label(self.forecast['made_at'].iloc[0], tz)})")
        if self.missing_hours:
            what += f"; {plural(self.missing_hours, 'hour')} left out: no median (missing inputs)"
        by = (f"the weekly naive INSTEAD OF THE MODEL ({self.fallback_reason})" if self.fallback_reason
              else f"{self.model} v{self.model_version}")
        pub = self.published
        p_made = pd.Timestamp(pub["made_at"].iloc[0])
        n = int(pub["vintages"].iloc[0])
        late = "" if bool(pub["on_time"].iloc[0]) else ", after the gate closure"
        published = (f"published: {labels.title(self.zone, pub['ts'], p_made, tz)} (vintage {int(pub['vintage'].iloc[0])}"
                     f" of {n}{late})")
        if pub["fallback_reason"].notna().iloc[0] and not self.fallback_reason:
            published += f", the weekly naive: {pub['fallback_reason'].iloc[0]}"
        text = f"{self.zone} origin {self.origin.isoformat()} with {by}: {what}; {published}"
        if self.rates:
            text += f"; {self.rates}"
        return text


def newest_feature_rows(project: Project, zone: str, version: int = FEATURES_VERSION,
                        known_by: pd.Timestamp | None = None) -> pd.DataFrame:
    """The newest origin's price_features (``version``) rows for ``zone``. With ``known_by`` (a
    run's ``--now``): the newest origin whose price inputs were all published by then, so a
    vintage "made" at that instant never uses prices published later (see
    :func:`origins_known_by`)."""
    fg = _fg_or_none(project, FEATURES_NAME, version)
    if fg is None:
        raise NotFoundError(
            f"the store has no {FEATURES_NAME} v{version} yet; {next_step(project, zone)}"
        )
    have = _origins_of(fg, zone)
    if not have:
        zones = zones_with(project, FEATURES_NAME, version)
        raise NotFoundError(
            f"{FEATURES_NAME} has no rows for zone {zone}"
            + (f"; zones with features: {', '.join(zones)}" if zones else "")
            + f"; {next_step(project, zone)}"
        )
    if known_by is not None:
        have = origins_known_by(project, zone, have, known_by)
    return _rows_at(fg, zone, have[-1])


_INPUT_TIMES = ((PRICES.name, PRICES.version, "known_at"), (acc.ACTUALS_NAME, acc.ACTUALS_VERSION, "known_at"),
                (WEATHER.name, WEATHER.version, "issued_at"), (EXOGENOUS.name, EXOGENOUS.version, "issued_at"))
"""The stored inputs of ``price_features`` and the column that says when each row became known
(weather observations are known at their hour: ``issued_at = ts``)."""


def origins_known_by(project: Project, zone: str, origins: Sequence[pd.Timestamp],
                     at: pd.Timestamp) -> list[pd.Timestamp]:
    """The ``origins`` (sorted) whose inputs were all published by ``at``.

    An origin's features use what was known by it: prices, weather (forecasts and observations)
    and exogenous forecasts with their known time at or before the origin. So an origin before
    the first input the store holds from after ``at`` knows nothing ``at`` did not -- even when
    it is later than ``at``: in a ``spotcast run --now`` replay nothing after ``at`` is stored,
    and after the 13:00 auction the next morning's origin is complete. Any later origin would
    forecast from something not yet published at ``at``. With no input stored at all only the
    origins at or before ``at`` count. None left is refused."""
    at = pd.Timestamp(at).tz_convert("UTC")
    firsts: list[pd.Timestamp] = []
    found = False
    for name, version, col in _INPUT_TIMES:
        fg = _fg_or_none(project, name, version)
        if fg is None:
            continue
        found = True
        later = pd.to_datetime(fg.select([col]).filter((fg.zone == zone) & (fg[col] > at)).read()[col], utc=True)
        if len(later):
            firsts.append(later.min())
    if not found:
        firsts.append(at + pd.Timedelta(microseconds=1))
    if not firsts:
        return list(origins)
    first_later = min(firsts)
    known = [o for o in origins if o < first_later]
    if not known:
        raise ValidationError(
            f"{zone}: no {FEATURES_NAME} origin was complete at --now {at:%Y-%m-%dT%H:%MZ}: the first, "
            f"{origins[0]:%Y-%m-%dT%H:%MZ}, uses inputs published {first_later:%Y-%m-%dT%H:%MZ}, after it. "
            f"Use a --now at or after {first_later:%Y-%m-%dT%H:%MZ}, or leave --now out")
    return known


QUALITY_WINDOW_DAYS = 7
"""The local days before the first delivery day whose prices a forecast's inputs are made of:
the lags of 1, 2, 3 and 7 days (and so the weekly naive) of every target day come from them."""


def quality_failures(project: Project, zone: str, rows: pd.DataFrame) -> pd.DataFrame:
    """The failed ``data_quality`` checks of ``zone`` on the :data:`QUALITY_WINDOW_DAYS` local
    days before the first target day of ``rows`` (empty when ingest stored no flags)."""
    fg = _fg_or_none(project, DATA_QUALITY.name, DATA_QUALITY.version)
    if fg is None or rows.empty:
        return pd.DataFrame(columns=DATA_QUALITY.column_names)
    tz = fc.zone_timezone(zone)
    first = pd.to_datetime(rows["ts"], utc=True).min().tz_convert(tz).normalize()
    start = (first - pd.DateOffset(days=QUALITY_WINDOW_DAYS)).tz_convert("UTC")
    flags = fg.filter((fg.zone == zone) & (fg.day >= start) & (fg.day < first.tz_convert("UTC"))).read()
    bad = flags[~flags["passed"].astype(bool)]
    return bad.sort_values(["day", "check_name"], ignore_index=True)


def fallback_reason(failures: pd.DataFrame) -> str | None:
    """``data_quality: SE3 2024-09-20 flatliner: longest run of one price: 10 h (...)`` -- every
    failed check, or None when the inputs passed."""
    if failures.empty:
        return None
    return "data_quality: " + "; ".join(f"{r.zone} {r.local_date} {r.check_name}: {r.detail}"
                                        for r in failures.itertuples())


def store_vintage(project: Project, zone: str,
                  new: pd.DataFrame) -> tuple[bool, pd.DataFrame, pd.DataFrame, int | None, int]:
    """Store ``new`` (one origin's hourly vintage) unless the origin's newest stored vintage
    already holds exactly its hours. Returns ``(written, the vintage's hourly rows, every stored
    hourly row of the origin, commit id, quarter-hour rows written)``.

    For a zone with 15-minute prices the vintage's quarter-hours from the zone's first one on
    (:func:`spotcast_storage.quarters.vintage_rows`) go into the same insert with the same
    ``made_at``: one commit, so a vintage is never partly written, and its quarter-hours are
    fixed from then on. Whether anything is new is decided on the hourly rows alone.

    An existing vintage is never changed: a vintage with other values made at the very instant of
    a stored one (two forecasts in one replayed run, e.g. after a new model) is stored one
    microsecond later. A vintage made *before* a stored one is refused: slipped in ahead of it,
    it would become the published one (the first made before the gate closure) and renumber the
    others, so a published forecast would change."""
    origin = pd.Timestamp(new["origin"].iloc[0])
    new = FORECASTS.conform(new)  # hourly rows: a bad row is refused before anything is written
    if (new["resolution_minutes"] != 60).any():
        raise ValidationError("store_vintage takes a vintage's hourly rows (resolution_minutes 60); "
                              "its quarter-hours are made from them")
    fg = FORECASTS.get_or_create(project.get_feature_store())
    old = stored_rows(project, zone, origin)
    if len(old):
        newest = old[old["made_at"] == old["made_at"].max()]
        newest = newest[newest["ts"].isin(new["ts"])].reset_index(drop=True)
        if fc.same_forecast(new, newest):
            return False, newest, old, None, 0
        taken = set(pd.to_datetime(old["made_at"], utc=True))
        made = pd.Timestamp(new["made_at"].iloc[0])
        while made in taken:
            made += pd.Timedelta(microseconds=1)
        last = max(taken)
        if made < last:
            raise ValidationError(
                f"{zone} origin {origin:%Y-%m-%dT%H:%MZ} already has a vintage made {last.isoformat()}; one made "
                f"earlier ({made.isoformat()}, --now) would slip in before it and could become the published "
                f"forecast, and a published forecast never changes. Use a --now after {last.isoformat()}, "
                "or leave --now out")
        new = new.assign(made_at=made)
    rows = quarters.vintage_rows(new, quarter_since(project, zone))
    commit = fg.insert(rows)
    return (True, new, _stacked(old, new) if len(old) else new, commit.commit_id,
            int((rows["resolution_minutes"] == 15).sum()))


def _stacked(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """``a`` over ``b``, a column that is all null on one side taking the other side's dtype
    (e.g. ``fallback_reason`` of a model's vintage): pandas is deprecating the concat rule that
    ignores such columns, which would change the stacked dtypes."""
    def like(x: pd.DataFrame, y: pd.DataFrame) -> pd.DataFrame:
        return x.astype({c: y[c].dtype for c in x.columns
                         if c in y.columns and x[c].isna().all() and not y[c].isna().all()
                         and not pd.api.types.is_integer_dtype(y[c])})  # NaN cannot be an int64

    return pd.concat([like(a, b), like(b, a)], ignore_index=True)


def _published_between(project: Project, zone: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The published hourly forecasts of origins in [start, end) that a model made (no quality
    fallback), with a p50: the forecasts a band can be calibrated on."""
    src = FORECASTS.source(project.get_feature_store())
    if src is None:
        return pd.DataFrame(columns=["origin", "ts", "p50", "model", "model_version"])
    g, to_rows = src
    pub = published_of(to_rows(g.filter((g.zone == zone) & (g.origin >= start) & (g.origin < end)).read()))
    return pub[pub["fallback_reason"].isna() & pub["p50"].notna()]


def band_history(project: Project, zone: str, origin: pd.Timestamp, model: ModelRef, unit_column: str,
                 days: int = fc.BAND.window_days, naive_column: str | None = None) -> pd.DataFrame:
    """The errors the published band of ``origin`` is calibrated on (:func:`forecast.error_history`):
    the published forecasts of the ``days`` before it that a model made (the weekly naive's are
    left out: another model's errors), and, for earlier origins, the promotion gate's rolling
    forecasts of ``model`` (the run its registration names: :func:`spotcast_storage.promotion.gate_run_of`), so a model promoted
    on a fresh store is calibrated on its own out-of-sample errors from its first forecast.

    A naive model (``naive_column``: what it copies) needs neither: its forecast of every earlier
    origin is that column of the origin's feature rows, so its band is calibrated on exactly its
    own errors over the whole window, also when it starts serving after models that erred
    differently (the weekly naive the promotion gate falls back to). Where it published an
    origin itself, the published p50 counts (stored, immutable): feature rows are upserted as
    later prices arrive, so they may not say what was known at that origin."""
    start = origin - pd.Timedelta(days=days)
    feats = _fg(project, FEATURES_NAME, model.features_version)
    hourly = _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION)

    def actuals_from(first: pd.Timestamp) -> pd.DataFrame:
        return (hourly.select(["ts", "price_eur_mwh", "known_at"]).filter((hourly.zone == zone) & (hourly.ts >= first))
                .read() if hourly is not None else pd.DataFrame(columns=["ts", "price_eur_mwh", "known_at"]))

    pub = _published_between(project, zone, start, origin)
    if naive_column is not None:
        x = feats.select(["origin", "ts", "horizon_day", unit_column, naive_column]).filter(
            (feats.zone == zone) & (feats.origin >= start) & (feats.origin < origin)).read()
        if x.empty:
            return fc.error_history(x, x, x, unit_column)
        own = pub[(pub["model"] == model.name) & (pub["model_version"] == model.version)][["origin", "ts", "p50"]]
        mine = set(pd.to_datetime(own["origin"], utc=True))
        rest = x[~pd.to_datetime(x["origin"], utc=True).isin(mine)].rename(columns={naive_column: "p50"})
        forecasts = pd.concat([p for p in (own, rest[["origin", "ts", "p50"]]) if len(p)], ignore_index=True)
        return fc.error_history(forecasts, x, actuals_from(start), unit_column)
    parts = []
    parts.append(pub[pub["model"] != fc.NAIVE_MODEL][["origin", "ts", "p50"]])
    bt = _fg_or_none(project, BACKTESTS.name, BACKTESTS.version)
    run = gate_run_of(project.get_model_registry().get_model(model.name, model.version)) if bt is not None else None
    if bt is not None and run is not None:
        gate = bt.filter((bt.run_id == run) & (bt.zone == zone)
                         & (bt.model == GATE_STREAM_MODEL) & (bt.origin >= start) & (bt.origin < origin)).read()
        if parts and len(parts[0]):
            gate = gate[pd.to_datetime(gate["origin"], utc=True) < pd.to_datetime(parts[0]["origin"], utc=True).min()]
        parts.append(gate[["origin", "ts", "p50"]])
    forecasts = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame()
    if forecasts.empty:
        return fc.error_history(forecasts, forecasts, forecasts, unit_column)
    first = pd.to_datetime(forecasts["origin"], utc=True).min()
    x = feats.select(["origin", "ts", "horizon_day", unit_column]).filter(
        (feats.zone == zone) & (feats.origin >= first) & (feats.origin < origin)).read()
    return fc.error_history(forecasts, x, actuals_from(first), unit_column)


def calibrate(project: Project, zone: str, rows: pd.DataFrame, pred: pd.DataFrame, predictor: Predictor,
              model: ModelRef, made: pd.Timestamp) -> pd.DataFrame:
    """The model's predictions with the published band (:func:`forecast.calibrated_band`) where its
    artifact names an interval unit (e.g. ``roll7_std``) that the feature rows carry; as they are
    otherwise. Errors count once published by the time the forecast is made (or by its origin,
    if earlier), so an idle rerun finds the same band and writes nothing."""
    scale = getattr(getattr(predictor, "spec", None), "interval_scale", None)
    if scale is None or scale.column not in rows.columns or "horizon_day" not in rows.columns:
        return pred
    spec = predictor.spec  # type: ignore[attr-defined]  # has interval_scale, so it is spotcast's format
    naive = spec.naive_column if getattr(spec, "kind", None) == "naive" else None
    return _online_band(project, zone, rows, pred, model, scale.column, scale.units(rows), made, naive)


def _online_band(project: Project, zone: str, rows: pd.DataFrame, pred: pd.DataFrame, model: ModelRef,
                 unit_column: str, unit: np.ndarray, made: pd.Timestamp, naive_column: str | None) -> pd.DataFrame:
    origin = pd.Timestamp(rows["origin"].iloc[0])
    history = band_history(project, zone, origin, model, unit_column, naive_column=naive_column)
    band, _ = fc.calibrated_band(rows, pred, history, unit, min(origin, made))
    return band


def fallback_band(project: Project, zone: str, rows: pd.DataFrame, made: pd.Timestamp,
                  features_version: int) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """The data-quality fallback's band: the weekly naive's online band on its own recomputed
    errors (as a naive model's, :func:`band_history`), so a trader keeps an 80% band on the days
    the inputs are suspect. None when the rows carry no unit; hours whose unit is unknown, or
    horizon days with too few known errors, keep null p10/p90."""
    from spotcast_storage.boosted import INTERVAL_UNIT, IntervalScale

    if INTERVAL_UNIT not in rows.columns or "horizon_day" not in rows.columns:
        return None
    ref = ModelRef(fc.NAIVE_MODEL, 0, "", features_version=features_version)
    unit = IntervalScale(INTERVAL_UNIT, float("nan")).units(rows)  # no typical value: an unknown unit, no band
    return lambda pred: _online_band(project, zone, rows, pred, ref, INTERVAL_UNIT, unit, made, fc.NAIVE_COLUMN)


def forecast_origin(project: Project, zone: str, rows: pd.DataFrame, predictor: Predictor | None = None,
                    model: ModelRef | None = None, *, days: int = DEFAULT_DAYS, now: pd.Timestamp | None = None,
                    model_spec: str | None = None, unit: units.Unit | None = None) -> PredictResult:
    """Forecast one origin's feature rows as a vintage made at ``now`` and store it, unless the
    origin's newest vintage is exactly this forecast. Inputs that failed the data-quality gate
    give the weekly naive, flagged; otherwise ``model`` (default: :func:`resolve_model`) predicts.
    With a SEK ``unit`` a missing EUR/SEK rate is an error before anything is written."""
    tz = fc.zone_timezone(zone)
    rows = fc.limit_horizon(rows, days, tz)
    if rows.empty:
        raise ValidationError(f"the newest origin of zone {zone} has no target hours within {days} day(s)")
    made = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC").floor("us")
    reason = fallback_reason(quality_failures(project, zone, rows))
    if reason is None:
        model = model or resolve_model(project, zone, model_spec)
        # the promotion gate's weekly naive serves as a model, but its rows say why it does
        gate_reason = None
        if not model_spec:
            st = serving_status(project, zone)
            if st.serving is not None and (st.serving.name, st.serving.version) == (model.name, model.version):
                gate_reason = st.fallback_reason
        predictor = predictor or load_predictor(model)
        pred = calibrate(project, zone, rows, predictor.predict(rows), predictor, model, made)
        new = fc.build_forecasts(rows, pred, model=model.name, model_version=model.version,
                                 made_at=made, fallback_reason=gate_reason)
    else:
        fv = model.features_version if model is not None else FEATURES_VERSION
        new = fc.naive_forecast(rows, reason=reason, made_at=made, band=fallback_band(project, zone, rows, made, fv))
    if unit is not None and unit.needs_rate:
        day_rates_for(project, zone, fc.forecast_table(new, tz), made)  # a missing rate fails before any write
    written, vintage, stored, commit_id, n_quarters = store_vintage(project, zone, new)
    return PredictResult(zone, pd.Timestamp(new["origin"].iloc[0]), str(vintage["model"].iloc[0]),
                         int(vintage["model_version"].iloc[0]), written, vintage, fc.daily_means(vintage, tz),
                         published_of(stored), pd.Timestamp(vintage["made_at"].iloc[0]), reason, commit_id,
                         missing_hours=len(rows) - len(new), unit=(unit or units.UNITS[units.DEFAULT_UNIT]).code,
                         quarter_rows=n_quarters)


def _model_or_none(project: Project, zone: str, spec: str | None) -> ModelRef | None:
    """The model that will forecast ``zone``, resolved once per predict (its price_features version
    picks the rows); None when there is no usable one: forecast_origin then says why, after the
    data-quality gate, which needs no model."""
    try:
        return resolve_model(project, zone, spec)
    except (NotFoundError, ValidationError):
        return None


class _BesideStore:
    """The default of :func:`predict`'s ``outputs``: the store's own folder (``None`` means no files)."""

    def __repr__(self) -> str:
        return "BESIDE_STORE"


BESIDE_STORE = _BesideStore()


def predict(project: Project, zone: str, *, days: int = DEFAULT_DAYS, model: str | None = None,
            outputs: Path | str | _BesideStore | None = BESIDE_STORE, formats: Sequence[str] | None = None,
            now: pd.Timestamp | None = None, unit: str | None = None) -> PredictResult:
    """Newest (or pinned) model x newest origin's features -> a ``forecasts`` vintage, plus the
    files of the origin's published vintage: in ``outputs``, by default the folder beside the
    store that every command writes to (:func:`spotcast_storage.config.outputs_dir`), so a
    Python caller's files never land in whatever folder it happens to run in; ``None``: no files.

    Inputs that failed the data-quality gate make it publish the weekly naive instead, flagged
    with the reason. Everything that can be rejected (zone, days, unit, model, output formats,
    a missing EUR/SEK rate) is checked before anything is written.
    """
    z = normalise_zone(zone)
    if days < 1:
        raise ValidationError(f"--days must be at least 1, got {days}")
    u = units.parse_unit(unit)
    if isinstance(outputs, _BesideStore):
        from spotcast_storage.config import outputs_dir

        outputs = outputs_dir(project)
    writers = select_writers(formats) if outputs is not None else []
    ref = _model_or_none(project, z, model)
    rows = newest_feature_rows(project, z, ref.features_version if ref is not None else FEATURES_VERSION,
                               known_by=now)
    result = forecast_origin(project, z, rows, model=ref, days=days, now=now, model_spec=model, unit=u)
    if outputs is not None:
        output = make_output(project, result, Path(outputs), u)
        if output.rates is not None:
            result.rates = units.describe_rates(output.rates)
        just_published = result.written and bool((result.published["made_at"] == result.made_at).all())
        result.files, result.files_kept = write_outputs(output, writers, keep_existing=not just_published)
        quarter_writers = [w for w in writers if w.name in ("csv", "png")]  # plugins' writers: hourly only
        if quarter_writers and quarter_since(project, z) is not None:
            try:
                q_output = make_output(project, result, Path(outputs), u, resolution=15)
            except ValidationError:  # this vintage ends before the zone's first quarter-hour
                q_output = None
            if q_output is not None:
                files, kept = write_outputs(q_output, quarter_writers, keep_existing=not just_published)
                result.files += files
                result.files_kept += kept
    ensure_accuracy_view(project)
    return result


def published_daily(project: Project, result: PredictResult, unit: units.Unit | None = None) -> pd.DataFrame:
    """Daily means of ``result``'s published vintage in ``unit``."""
    unit = unit or units.UNITS[units.DEFAULT_UNIT]
    tz = fc.zone_timezone(result.zone)
    daily = fc.daily_means(result.published, tz)
    daily = daily[daily["date"].isin(result.daily["date"])].reset_index(drop=True)  # this run's --days
    if not unit.needs_rate:
        return units.convert_daily(daily, unit, None)
    made = pd.Timestamp(result.published["made_at"].iloc[0])
    return units.convert_daily(daily, unit, day_rates_for(project, result.zone, result.published, made))


def make_output(project: Project, result: PredictResult, outputs_dir: Path, unit: units.Unit | None = None,
                resolution: int = 60) -> ForecastOutput:
    """The files' view of ``result``: its origin's published vintage (never the run's own if that
    is a later vintage), with the actual prices known when it was made, in ``unit``, hourly or
    at 15 minutes (file names end in ``_15min``)."""
    tz = fc.zone_timezone(result.zone)
    pub = result.published
    unit = unit or units.UNITS[units.DEFAULT_UNIT]
    table, rates = published_table(project, result.zone, pub, unit, resolution)
    made = pd.Timestamp(pub["made_at"].iloc[0])
    stem = labels.file_stem(result.zone, pub["ts"], made, tz, unit.code)
    return ForecastOutput(zone=result.zone, origin=pd.Timestamp(pub["origin"].iloc[0]), tz=tz, table=table,
                          daily=units.convert_daily(fc.daily_means(pub, tz), unit, rates),
                          model=str(pub["model"].iloc[0]), model_version=int(pub["model_version"].iloc[0]),
                          outputs_dir=outputs_dir, made_at=made, unit=unit.code, unit_label=unit.label,
                          title=labels.title(result.zone, pub["ts"], made, tz),
                          stem=stem if resolution == 60 else f"{stem}_{resolution}min",
                          fallback_reason=pub["fallback_reason"].iloc[0], rates=rates)


# -- accuracy ---------------------------------------------------------------------------------
_views_ensured: set[str] = set()


def ensure_accuracy_view(project: Project) -> bool:
    """Create (or refresh) the ``forecast_accuracy`` SQL view on the local backend once both
    of its tables exist; leaves an identical view alone so a re-run changes nothing.
    Checked once per store and process."""
    if getattr(project, "sql_dialect", None) != acc.SQL_DIALECT:
        return False
    store = str(getattr(project, "path", None) or project.describe())  # one check per store file
    if store in _views_ensured:
        return True
    tables = set(project.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")["table_name"])
    if not {acc.FORECASTS_TABLE, acc.ACTUALS_TABLE} <= tables:
        return False
    _ensure_view(project, acc.VIEW_NAME, acc.rows_sql())
    _ensure_view(project, quarters.VIEW_NAME, quarters.view_sql(acc.FORECASTS_TABLE))  # the stored quarter-hours
    _views_ensured.add(store)
    return True


def _ensure_view(project: Project, name: str, sql: str) -> None:
    current = project.sql("SELECT sql FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?", [name])
    if current.empty or sql not in str(current["sql"].iloc[0]):
        project.create_sql_view(name, sql)


def accuracy(project: Project, zone: str, days: int = acc.DEFAULT_DAYS,
             weeks: int = acc.DEFAULT_WEEKS) -> acc.AccuracyReport:
    """Published forecasts joined with the actual prices known so far for ``zone``: the newest
    ``days`` origin days, and by week the newest ``weeks`` weeks; an empty report says why."""
    z = check_known_zone(project, zone)
    if days < 1:
        raise ValidationError(f"--days must be at least 1, got {days}")
    if weeks < 1:
        raise ValidationError(f"--weeks must be at least 1, got {weeks}")
    if not origins(project, z):
        raise NoForecastError(f"no forecasts stored for zone {z} yet; {next_step(project, z)}")
    if _sql_here(project):
        if _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION) is None:
            report = acc.run_on_frames(_empty_forecasts(), _empty_actuals(), z, days, weeks)
        else:
            report = acc.run_in_store(project.sql, z, days, weeks)
    else:
        report = acc.run_on_frames(stored_rows(project, z), read_actuals(project, z), z, days, weeks)
    if report.empty:
        return report.with_reason(no_actuals_reason(project, z))
    since = quarter_since(project, z)
    if since is None:
        return report
    from dataclasses import replace

    if _sql_here(project):
        q = acc.quarter_report_in_store(project.sql, z, days)
    else:
        prices = read_quarter_prices(project, z, since, pd.Timestamp.max.tz_localize("UTC")).assign(resolution_minutes=15)
        q = acc.quarter_report_on_frames(stored_rows(project, z, resolution=None), prices, z, days)
    return replace(report, by_horizon_15min=q)


def accuracy_of_origin(project: Project, zone: str, origin: str | pd.Timestamp | None = None) -> acc.OriginAccuracy:
    """One origin's published forecast against the actual prices, hour by hour: ``origin`` as
    for :func:`resolve_origin` (a time or a local date), or None for the newest origin that
    has actual prices."""
    z = check_known_zone(project, zone)
    o = resolve_origin(project, z, origin) if origin is not None else None  # says which origins exist
    if o is None and not origins(project, z):
        raise NoForecastError(f"no forecasts stored for zone {z} yet; {next_step(project, z)}")
    if _sql_here(project) and _fg_or_none(project, acc.ACTUALS_NAME, acc.ACTUALS_VERSION) is not None:
        report = acc.origin_in_store(project.sql, z, o)
    else:
        report = acc.origin_on_frames(stored_rows(project, z), read_actuals(project, z), z, o)
    if not report.hours.empty:
        return report
    if o is None:
        return acc.OriginAccuracy(z, None, report.hours, no_actuals_reason(project, z))
    tz = fc.zone_timezone(z)
    rows = stored_rows(project, z, o)
    first = pd.Timestamp(rows["ts"].min()).tz_convert(tz).date().isoformat() if not rows.empty else "?"
    return acc.OriginAccuracy(z, o, report.hours, (
        f"no actual prices yet for the forecast of {z} from origin {o.tz_convert(tz):%Y-%m-%d %H:%M} ({tz}): "
        f"its first delivery day is {first}; its prices come with the day-ahead auction the day before "
        f"(about 13:00 CET) and the next `spotcast run` (or `spotcast-ingest update` and "
        f"`spotcast-features build`) stores them"))


def _sql_here(project: Project) -> bool:
    return (getattr(project, "sql_dialect", None) == acc.SQL_DIALECT
            and _fg_or_none(project, FORECASTS.name, FORECASTS.version) is not None)


def no_actuals_reason(project: Project, zone: str) -> str:
    """Why no published forecast of ``zone`` can be scored yet, and the two ways forward:
    wait for the delivery day's prices, or replay past days with ``--now``."""
    tz = fc.zone_timezone(zone)
    rows = stored_rows(project, zone)
    first_hour = pd.Timestamp(rows["ts"].min()).tz_convert(tz)
    actuals = read_actuals(project, zone)
    known = ("no actual prices are stored for it at all" if actuals.empty else
             f"actual prices are stored up to {pd.Timestamp(actuals['ts'].max()).tz_convert(tz):%Y-%m-%d %H:%M}")
    store = getattr(project, "path", None)
    store_opt = f"--store {store} " if store is not None else ""
    fg = _fg_or_none(project, PRICES.name, PRICES.version)
    synthetic = fg is not None and (fg.select(["zone", "source"]).filter(fg.zone == zone).read()["source"]
                                    == "synthetic").any()
    source_opt = " --source synthetic" if synthetic else ""
    return (f"no published forecast of {zone} has an actual price yet: the first forecast hour is "
            f"{first_hour:%Y-%m-%d %H:%M} ({tz}) and {known}. Wait until the prices of "
            f"{first_hour:%Y-%m-%d} are published (the day-ahead auction, about 13:00 CET the day before) and "
            f"stored by the next `spotcast run`; or build a history by replaying past days, one "
            f"`spotcast {store_opt}run --zone {zone}{source_opt} --now <YYYY-MM-DD>T14:00Z` per day in order "
            f"(serve README, \"Accuracy over time\")")


def _empty_forecasts() -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=_dtype(c.type)) for c in FORECASTS.columns})


def _empty_actuals() -> pd.DataFrame:
    return pd.DataFrame({"zone": pd.Series(dtype="str"), "ts": pd.Series(dtype="datetime64[us, UTC]"),
                         "price_eur_mwh": pd.Series(dtype="float64")})


def _dtype(t: str) -> str:
    return {"string": "object", "timestamp": "datetime64[us, UTC]", "double": "float64", "bigint": "int64"}[t]


# -- listings ---------------------------------------------------------------------------------
def zones_overview(project: Project) -> pd.DataFrame:
    """Per zone with features or forecasts: newest feature origin, newest forecast origin, rows."""
    out: dict[str, dict[str, Any]] = {}
    src = FORECASTS.source(project.get_feature_store())
    for key, fg in {"features": _fg_or_none(project, FEATURES_NAME, FEATURES_VERSION),
                    "forecast": None if src is None else src[0]}.items():
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


def models_overview(project: Project) -> list[dict[str, Any]]:
    """Registered models with metrics and lineage (newest first)."""
    models = project.get_model_registry().get_models()
    out = []
    for m in sorted(models, key=lambda m: (m.created, m.version), reverse=True):
        d = m.to_dict() if hasattr(m, "to_dict") else {"name": m.name, "version": m.version}
        d.pop("artifact_path", None)
        d["zones"] = list(model_zones(m))
        d["trained_on_price_features"] = trained_on_price_features(m)
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
