"""Contracts written by the serve stage (``spotcast-serve predict`` and its `spotcast run` handler).

``forecasts`` v3 holds *vintages*: one row per zone, forecast origin, target period, its
resolution (``resolution_minutes``: 60 or 15) and ``made_at`` (when the forecast was made: the
run's "now", UTC). A vintage is its hourly rows and, for a zone whose prices clear in 15 minutes
(from its first stored quarter-hour price on), the quarter-hour rows the mean-preserving ramp of
:mod:`spotcast_storage.quarters` makes of them: both written in one commit with one ``made_at``
and never changed afterwards, so a published quarter-hour forecast is as fixed as the hourly one
(backfilling earlier 15-minute prices later changes nothing stored). Forecasting an origin again
with the same model and inputs writes nothing (the hourly rows are compared), and a forecast
with other values is a new vintage beside the old one. Hours for which the model gave no median
are absent rather than null. ``fallback_reason`` is null for the model's own forecast; when the
inputs failed the data-quality gate (or no model may serve) it says why the weekly naive
forecast was published instead. A ``resolution_minutes`` other than 60 or 15 is refused by the
contract's check (nothing is written).

Which vintage counts is defined here once, in SQL (:func:`vintages_sql`, :func:`published_sql`),
and used by every reader: serve's reads, files, API and dashboard, and the ``forecast_accuracy``
and ``forecasts_15min`` views, which show the published vintage only. Vintages are ranked per
zone and origin on their hourly rows (counted by ``made_at``, not by rows), so the quarter-hours
of a vintage are published exactly when its hourly rows are; a reader asks for one resolution
(60 by default). The *published* vintage of an origin is the first
vintage made before the day-ahead gate closure -- 12:00 Europe/Berlin (CET/CEST) on the day
before the first delivery day the origin's forecast covers -- and, when none was made before
it, the first vintage. Since a later vintage always has a later ``made_at``, the published
vintage is in practice the origin's first one, fixed once written; ``on_time`` says whether it
beat the gate closure (a forecast made after it was too late to bid with).

Older versions are upgraded by the contract itself, in a chain (v1 -> v2 -> v3): ``forecasts``
v1 (key zone, origin, ts; rewritten by a new model version) rows become vintages with
``made_at = created_at``; v2 rows (key zone, origin, ts, made_at) are hourly, so they become
v3 rows with ``resolution_minutes = 60``, and, for a zone with stored 15-minute prices, the
quarter-hours v2's readers derived from them (from the zone's first 15-minute price on) are
stored beside them, so the upgrade keeps what readers were shown.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_storage.contracts.base import Column, Contract, Upgrade
from spotcast_storage.errors import ValidationError
from spotcast_storage.zones import timezone_sql_values

GATE_CLOSURE_TZ = "Europe/Berlin"
GATE_CLOSURE_HOUR = 12
"""SDAC's day-ahead gate closure: 12:00 CET/CEST on the day before delivery."""

_COLUMNS_V1 = (
    Column("zone", "string", "bidding zone", nullable=False),
    Column("origin", "timestamp", "forecast origin: the time the forecast uses data up to, UTC", nullable=False),
    Column("ts", "timestamp", "target hour (start), UTC", nullable=False),
    Column("p10", "double", "10th percentile, EUR/MWh (p10 <= p50 <= p90 whenever all three are present)"),
    Column("p50", "double", "median forecast, EUR/MWh", nullable=False),
    Column("p90", "double", "90th percentile, EUR/MWh"),
    Column("model", "string", "registered model name", nullable=False),
    Column("model_version", "bigint", "registered model version", nullable=False),
    Column("created_at", "timestamp", "when the forecast was written, UTC", nullable=False),
)

FORECASTS_V1 = Contract(
    name="forecasts",
    version=1,
    primary_key=("zone", "origin", "ts"),
    event_time="origin",
    description="Forecasts per zone and origin (superseded by v2, which keeps every vintage).",
    columns=_COLUMNS_V1,
)


def _from_v1(df: pd.DataFrame) -> pd.DataFrame:
    """A v1 row is the vintage made when it was written (``created_at``), the model's own."""
    df["made_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["fallback_reason"] = pd.Series([None] * len(df), index=df.index, dtype=object)
    return df


FORECASTS_V2 = Contract(
    name="forecasts",
    version=2,
    primary_key=("zone", "origin", "ts", "made_at"),
    event_time="origin",
    description="Forecast vintages (superseded by v3, which carries the resolution): per zone, forecast "
    "origin and time made, the hourly p10/p50/p90 price for each target hour.",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("origin", "timestamp", "forecast origin: the time the forecast uses data up to, UTC", nullable=False),
        Column("ts", "timestamp", "target hour (start), UTC", nullable=False),
        Column("made_at", "timestamp", "when this vintage was made (the run's now), UTC", nullable=False),
        Column("p10", "double", "10th percentile, EUR/MWh (p10 <= p50 <= p90 whenever all three are present; "
               "null for a naive fallback)"),
        Column("p50", "double", "median forecast, EUR/MWh", nullable=False),
        Column("p90", "double", "90th percentile, EUR/MWh (null for a naive fallback)"),
        Column("model", "string", "registered model name, or naive-weekly for a fallback", nullable=False),
        Column("model_version", "bigint", "registered model version (0 for a fallback)", nullable=False),
        Column("fallback_reason", "string", "null: the model's forecast; else why the weekly naive was published "
               "instead, e.g. 'data_quality: SE3 2024-09-20 flatliner: ...'"),
        Column("created_at", "timestamp", "when the rows were written, UTC", nullable=False),
    ),
    upgrade=Upgrade(1, _from_v1, "v1 rows become vintages made at their created_at"),
)

RESOLUTIONS_MINUTES = (60, 15)
"""The resolutions a forecast row may have: hourly, and the quarter-hours of the market's
15-minute periods."""


def _from_v2(df: pd.DataFrame) -> pd.DataFrame:
    """A v2 row is an hourly forecast (v2 stored nothing else)."""
    df["resolution_minutes"] = 60
    return df


def _quarters_of_v2(rows: pd.DataFrame, fs: object) -> pd.DataFrame:
    """The upgraded hourly vintages with their quarter-hours: v2's readers derived them, from each
    zone's first stored 15-minute price on, by the ramp that serve now stores with every vintage,
    so the migration stores exactly what they showed (a published quarter-hour forecast does not
    vanish from the record by the upgrade)."""
    from spotcast_storage import quarters

    first = quarters.first_quarter_hours(fs)
    parts = [rows]
    for zone, hourly in rows.groupby("zone", sort=True):
        since = first.get(str(zone))
        if since is not None:
            parts.append(quarters.quarter_rows(hourly, since))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else rows


def check_resolution(df: pd.DataFrame) -> None:
    """Every row's ``resolution_minutes`` is 60 or 15, and its ``ts`` starts a period of that
    length (a 15-minute row labelled 60 would read as an hour that is not one)."""
    res = pd.to_numeric(df["resolution_minutes"], errors="coerce")
    bad = df.loc[~res.isin(RESOLUTIONS_MINUTES), "resolution_minutes"]
    if len(bad):
        v = bad.iloc[0]
        shown = repr(v) if isinstance(v, str) else str(v)
        raise ValidationError(
            f"forecasts: resolution_minutes {shown} ({len(bad)} row(s)) is not allowed; use one of "
            f"{', '.join(map(str, RESOLUTIONS_MINUTES))} (60: hourly rows, 15: quarter-hours). Nothing was written")
    ts = pd.to_datetime(df["ts"], utc=True)
    off = (ts.dt.minute % res.astype("int64")) + ts.dt.second + ts.dt.microsecond
    if (off != 0).any():
        i = off.ne(0).to_numpy().nonzero()[0][0]
        raise ValidationError(
            f"forecasts: ts {ts.iloc[i].isoformat()} does not start a {int(res.iloc[i])}-minute period; an hourly "
            "row starts on the hour and a quarter-hour row at :00, :15, :30 or :45. Nothing was written")


FORECASTS = Contract(
    name="forecasts",
    version=3,
    primary_key=("zone", "origin", "ts", "resolution_minutes", "made_at"),
    event_time="origin",
    description="Forecast vintages: per zone, forecast origin and time made, the p10/p50/p90 price for "
    "each target period at its resolution (60: hourly; 15: the quarter-hours of a zone that clears "
    "in 15 minutes, written in the same commit), with the model version that made it, or the reason "
    "the weekly naive was published instead. A vintage never changes; the published one is the first "
    "made before the day-ahead gate closure (12:00 CET the day before the first delivery day).",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("origin", "timestamp", "forecast origin: the time the forecast uses data up to, UTC", nullable=False),
        Column("ts", "timestamp", "target period (start), UTC", nullable=False),
        Column("resolution_minutes", "bigint", "length of the target period: 60 (hourly) or 15 (quarter-hour); "
               "a frame without the column is hourly", nullable=False, default=60),
        *FORECASTS_V2.columns[3:],
    ),
    upgrade=Upgrade(2, _from_v2, "v2 rows are hourly: resolution_minutes = 60, plus the quarter-hours "
                    "v2's readers derived from them", previous=FORECASTS_V2, with_store=_quarters_of_v2),
    check=check_resolution,
)

def read_source(src: tuple[Any, Any], cond: Any, resolution: int | None = 60) -> pd.DataFrame:
    """The rows matching ``cond`` of ``src`` (what :meth:`Contract.source` returned for
    :data:`FORECASTS`) as v3 rows at ``resolution`` minutes (None: both): filtered in the query on
    a v3 group, after the upgrade on an older one (which has no such column to query)."""
    fg, to_rows = src
    current = fg.version == FORECASTS.version
    if resolution is not None and current:
        cond = cond & (fg.resolution_minutes == resolution)
    rows = to_rows(fg.filter(cond).read())
    if resolution is not None and not current:
        rows = rows[rows["resolution_minutes"] == resolution]
    return rows


TABLE = f"{FORECASTS.name}_v{FORECASTS.version}"
"""The local backend's table of the current version."""


def vintages_sql(source: str = TABLE, fallback_tz: str = "UTC", resolution: int = 60) -> str:
    """Every vintage row of ``source`` (a table, view or registered frame with the v3 columns) at
    ``resolution`` minutes, with: ``vintage`` (1 = first made), ``vintages`` (how many the origin
    has), ``first_delivery_day`` (local date of the origin's first target hour, in the zone's time
    zone), ``gate_closure`` (12:00 Europe/Berlin the day before it, UTC), ``on_time`` (made before
    the closure) and ``published`` (the vintage readers show and accuracy scores).

    Vintages are found and ranked on the hourly rows alone, one per ``made_at``, whatever
    ``resolution`` is asked for: a vintage's quarter-hour rows carry the ranks of its hourly ones,
    so they are published exactly when those are."""
    if resolution not in RESOLUTIONS_MINUTES:
        raise ValidationError(f"resolution {resolution!r} minutes is not one of {RESOLUTIONS_MINUTES}")
    return f"""
WITH zone_tz(zone, tz) AS (VALUES {timezone_sql_values()}),
src AS (SELECT f.*, coalesce(z.tz, '{fallback_tz}') AS _tz FROM {source} AS f LEFT JOIN zone_tz AS z ON z.zone = f.zone),
hourly AS (SELECT * FROM src WHERE resolution_minutes = 60),
org AS (
    SELECT zone, origin, CAST(timezone(any_value(_tz), min(ts)) AS DATE) AS first_delivery_day
    FROM hourly GROUP BY zone, origin
),
gate AS (
    SELECT zone, origin, first_delivery_day,
           timezone('{GATE_CLOSURE_TZ}', CAST(first_delivery_day - 1 AS TIMESTAMP)
                                         + INTERVAL {GATE_CLOSURE_HOUR} HOUR) AS gate_closure
    FROM org
),
made AS (
    SELECT DISTINCT s.zone, s.origin, s.made_at, g.first_delivery_day, g.gate_closure
    FROM hourly AS s JOIN gate AS g ON g.zone = s.zone AND g.origin = s.origin
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY zone, origin ORDER BY made_at) AS vintage,
           count(*) OVER (PARTITION BY zone, origin) AS vintages,
           made_at < gate_closure AS on_time
    FROM made
),
pub AS (
    SELECT zone, origin,
           coalesce(min(made_at) FILTER (WHERE on_time), min(made_at)) AS published_made_at
    FROM ranked GROUP BY zone, origin
)
SELECT s.* EXCLUDE (_tz), r.vintage, r.vintages, r.first_delivery_day, r.gate_closure, r.on_time,
       (s.made_at = p.published_made_at) AS published
FROM src AS s
JOIN ranked AS r ON r.zone = s.zone AND r.origin = s.origin AND r.made_at = s.made_at
JOIN pub AS p ON p.zone = s.zone AND p.origin = s.origin
WHERE s.resolution_minutes = {int(resolution)}
""".strip()


def published_sql(source: str = TABLE, fallback_tz: str = "UTC", resolution: int = 60) -> str:
    """The published vintage of every origin in ``source`` at ``resolution`` minutes: the rows of
    :func:`vintages_sql` whose ``published`` is true (same columns)."""
    return f"SELECT * FROM ({vintages_sql(source, fallback_tz, resolution)}) WHERE published"


def run_on_frame(sql_of_source: str, rows: pd.DataFrame, params: list | None = None) -> pd.DataFrame:
    """Run a query built by :func:`vintages_sql` / :func:`published_sql` over ``rows`` (named
    ``_forecasts`` in the query) in an in-memory DuckDB: the same definition on backends
    without SQL and on frames already read."""
    from spotcast_storage import framesql

    out = framesql.query(sql_of_source, params, _forecasts=rows)
    for c in ("origin", "ts", "made_at", "created_at", "gate_closure"):
        if c in out.columns:
            out[c] = pd.to_datetime(out[c], utc=True)
    if "first_delivery_day" in out.columns:
        out["first_delivery_day"] = out["first_delivery_day"].astype("str")
    return out


def published(rows: pd.DataFrame, resolution: int = 60) -> pd.DataFrame:
    """The published vintage's rows at ``resolution`` minutes among ``rows`` (v3 rows of any
    zones, origins and resolutions)."""
    if rows.empty:
        return rows.iloc[0:0]
    out = run_on_frame(published_sql("_forecasts", resolution=resolution), rows)
    return out[[c for c in rows.columns]].sort_values(["zone", "origin", "ts"], ignore_index=True)
