"""Forecast accuracy, defined once in SQL.

:func:`rows_sql` pairs every stored forecast hour with the actual hourly price once it is
known. The same text becomes the store's ``forecast_accuracy`` view (so ``select * from
forecast_accuracy`` in the DuckDB shell gives the CLI's numbers) and is inlined into the
aggregate queries that the CLI and the HTTP API run, which therefore work on a read-only
store where the view was never created. On a backend without SQL the queries run in an
in-memory DuckDB over frames read through the storage API (:func:`run_on_frames`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from spotcast_storage import framesql, quarters
from spotcast_storage.contracts.features import PRICES_HOURLY
from spotcast_storage.contracts.forecasts import FORECASTS, published_sql
from spotcast_storage.zones import timezone_sql_values

VIEW_NAME = "forecast_accuracy"
SQL_DIALECT = "duckdb"
"""The SQL below is DuckDB's: it runs in the store where the store speaks it (``project.sql_dialect``),
else on frames read through the storage API in an in-memory DuckDB."""
FORECASTS_TABLE = f"{FORECASTS.name}_v{FORECASTS.version}"
# The hourly actual prices the features stage writes (hourly means of 15-minute prices, so
# forecasts and actuals share a grain).
ACTUALS_NAME, ACTUALS_VERSION = PRICES_HOURLY.name, PRICES_HOURLY.version
ACTUALS_TABLE = f"{ACTUALS_NAME}_v{ACTUALS_VERSION}"
NAIVE = "same hour one week before (weekly naive)"
FALLBACK_TZ = "UTC"
"""Days of rows whose zone is not in the zone table (stored before the stages refused such
zones): the view still counts them, on UTC days. Every zone of the table uses its own time."""


def rows_sql(forecasts: str = FORECASTS_TABLE, actuals: str = ACTUALS_TABLE) -> str:
    """One row per forecast hour of each origin's *published* vintage
    (:func:`spotcast_storage.contracts.forecasts.published_sql` over ``forecasts``, a table or
    registered frame of every vintage) with a known actual price.

    ``horizon_day`` counts local calendar days from the origin's day (D+1 = 1) in the zone's
    time zone, so DST days stay one day. ``naive_abs_error`` is the error of the weekly
    naive (the actual price 168 hours before) on the same hour: the reference for rMAE.
    """
    return f"""
WITH zone_tz(zone, tz) AS (VALUES {timezone_sql_values()})
SELECT
    f.zone,
    f.origin,
    f.ts,
    CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), f.origin) AS DATE) AS origin_date,
    date_diff('day',
              CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), f.origin) AS DATE),
              CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), f.ts) AS DATE)) AS horizon_day,
    f.p10,
    f.p50,
    f.p90,
    a.price_eur_mwh AS actual,
    f.p50 - a.price_eur_mwh AS error,
    abs(f.p50 - a.price_eur_mwh) AS abs_error,
    (a.price_eur_mwh BETWEEN f.p10 AND f.p90) AS in_band,
    f.p90 - f.p10 AS band_width,
    (greatest(0.1 * (a.price_eur_mwh - f.p10), -0.9 * (a.price_eur_mwh - f.p10))
     + greatest(0.5 * (a.price_eur_mwh - f.p50), -0.5 * (a.price_eur_mwh - f.p50))
     + greatest(0.9 * (a.price_eur_mwh - f.p90), -0.1 * (a.price_eur_mwh - f.p90))) / 3 AS pinball,
    n.price_eur_mwh AS naive_weekly,
    abs(n.price_eur_mwh - a.price_eur_mwh) AS naive_abs_error,
    f.model,
    f.model_version,
    f.made_at,
    f.on_time,
    f.fallback_reason
FROM ({published_sql(forecasts)}) AS f
JOIN {actuals} AS a ON a.zone = f.zone AND a.ts = f.ts
LEFT JOIN {actuals} AS n ON n.zone = f.zone AND n.ts = f.ts - INTERVAL 168 HOUR
LEFT JOIN zone_tz AS z ON z.zone = f.zone
""".strip()


def _window() -> str:
    """Restrict to one zone (first ``?``) and the newest ``days`` (second ``?``) days of
    origins that have actuals, counted back from the newest such origin so that a report
    on history is reproducible."""
    return """
rows AS (SELECT * FROM src WHERE zone = ?),
win AS (SELECT * FROM rows WHERE origin_date > (SELECT max(origin_date) FROM rows) - CAST(? AS INTEGER))
"""


def by_horizon_sql(source: str) -> str:
    """MAE, RMSE, rMAE against the weekly naive, p10-p90 coverage, mean band width and mean
    pinball loss (of p10, p50, p90) per horizon day."""
    return f"""
WITH src AS ({source}), {_window()}
SELECT zone, horizon_day, count(*) AS hours, count(DISTINCT origin) AS origins,
       avg(abs_error) AS mae, sqrt(avg(error * error)) AS rmse,
       avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL) AS naive_mae,
       avg(abs_error) FILTER (WHERE naive_abs_error IS NOT NULL)
         / nullif(avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL), 0) AS rmae,
       avg(CAST(in_band AS DOUBLE)) AS coverage_p10_p90,
       avg(band_width) AS width_p10_p90, avg(pinball) AS pinball
FROM win GROUP BY zone, horizon_day ORDER BY horizon_day
""".strip()


def by_origin_sql(source: str) -> str:
    """The same measures per origin day: how accuracy moves over time."""
    return f"""
WITH src AS ({source}), {_window()}
SELECT zone, origin_date, count(*) AS hours,
       avg(abs_error) AS mae,
       avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL) AS naive_mae,
       avg(CAST(in_band AS DOUBLE)) AS coverage_p10_p90
FROM win GROUP BY zone, origin_date ORDER BY origin_date
""".strip()


def pairs_sql(source: str) -> str:
    """Predicted vs actual per hour, from the shortest-horizon forecast of each hour."""
    return f"""
WITH src AS ({source}), {_window()}
SELECT zone, ts, horizon_day, p10, p50, p90, actual, abs_error
FROM win
QUALIFY row_number() OVER (PARTITION BY ts ORDER BY horizon_day, origin DESC) = 1
ORDER BY ts
""".strip()


def overall_sql(source: str) -> str:
    return f"""
WITH src AS ({source}), {_window()}
SELECT zone, count(*) AS hours, count(DISTINCT origin) AS origins,
       min(origin_date) AS first_origin_date, max(origin_date) AS last_origin_date,
       avg(abs_error) AS mae, sqrt(avg(error * error)) AS rmse,
       avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL) AS naive_mae,
       avg(abs_error) FILTER (WHERE naive_abs_error IS NOT NULL)
         / nullif(avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL), 0) AS rmae,
       avg(CAST(in_band AS DOUBLE)) AS coverage_p10_p90,
       avg(band_width) AS width_p10_p90, avg(pinball) AS pinball
FROM win GROUP BY zone
""".strip()


def by_week_sql(source: str) -> str:
    """MAE and p10-p90 coverage per horizon day and week, over the newest ``weeks`` (second
    ``?``) weeks of origins with actuals: how accuracy moves, horizon by horizon.

    ``week_start`` is the Monday of the origin's local week (the week the forecast was made);
    the window counts whole weeks back from the newest scored origin's week, so the newest
    week may be partial (its ``origins`` say how many days it has)."""
    return f"""
WITH src AS ({source}),
rows AS (SELECT *, CAST(date_trunc('week', origin_date) AS DATE) AS week_start FROM src WHERE zone = ?),
win AS (SELECT * FROM rows
        WHERE week_start > (SELECT max(week_start) FROM rows) - 7 * CAST(? AS INTEGER))
SELECT zone, week_start, horizon_day, count(*) AS hours, count(DISTINCT origin) AS origins,
       avg(abs_error) AS mae,
       avg(naive_abs_error) FILTER (WHERE naive_abs_error IS NOT NULL) AS naive_mae,
       avg(CAST(in_band AS DOUBLE)) AS coverage_p10_p90
FROM win GROUP BY zone, week_start, horizon_day ORDER BY week_start, horizon_day
""".strip()


def origin_sql(source: str) -> str:
    """Every scored hour of one origin's published forecast against the actual price: the
    origin given as an ISO time (second ``?``), or the newest scored origin when that is
    NULL. The origin's MAE and coverage ride along on every row (window aggregates), so the
    summary and the hours come from the same rows."""
    return f"""
WITH src AS ({source}),
rows AS (SELECT * FROM src WHERE zone = ?),
pick AS (SELECT coalesce(CAST(CAST(? AS VARCHAR) AS TIMESTAMPTZ), (SELECT max(origin) FROM rows)) AS origin)
SELECT zone, origin, origin_date, ts, horizon_day, p10, p50, p90, actual, error, abs_error, in_band,
       naive_weekly, model, model_version, fallback_reason,
       avg(abs_error) OVER () AS origin_mae, avg(CAST(in_band AS DOUBLE)) OVER () AS origin_coverage
FROM rows WHERE origin = (SELECT origin FROM pick)
ORDER BY ts
""".strip()


def quarter_rows_sql(forecasts: str = FORECASTS_TABLE, prices: str = quarters.PRICES_TABLE) -> str:
    """One row per stored quarter-hour of each origin's published vintage
    (:func:`spotcast_storage.quarters.published_quarters_sql` over ``forecasts``, v3 rows of every
    resolution) with a known 15-minute price: the error of the quarter-hour forecast, and beside it
    the error of the hourly forecast read at 15 minutes (``hourly_abs_error``), which is what the
    quarter-hours must beat."""
    return f"""
WITH zone_tz(zone, tz) AS (VALUES {timezone_sql_values()}),
q AS ({quarters.published_quarters_sql(forecasts)})
SELECT
    q.zone, q.origin, q.ts,
    CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), q.origin) AS DATE) AS origin_date,
    date_diff('day',
              CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), q.origin) AS DATE),
              CAST(timezone(coalesce(z.tz, '{FALLBACK_TZ}'), q.ts) AS DATE)) AS horizon_day,
    q.p10, q.p50, q.p90, a.price_eur_mwh AS actual,
    abs(q.p50 - a.price_eur_mwh) AS abs_error,
    abs(q.p50_hourly - a.price_eur_mwh) AS hourly_abs_error,
    (a.price_eur_mwh BETWEEN q.p10 AND q.p90) AS in_band
FROM q
JOIN {prices} AS a ON a.zone = q.zone AND a.ts = q.ts AND a.resolution_minutes = 15
LEFT JOIN zone_tz AS z ON z.zone = q.zone
""".strip()


def by_horizon_15min_sql(source: str) -> str:
    """Per horizon day at 15 minutes: MAE of the quarter-hour forecast, MAE of the hourly
    forecast repeated in its quarters, and p10-p90 coverage, over the newest ``days`` origin days."""
    return f"""
WITH src AS ({source}), {_window()}
SELECT zone, horizon_day, count(*) AS quarters, count(DISTINCT origin) AS origins,
       avg(abs_error) AS mae, avg(hourly_abs_error) AS hourly_mae,
       1 - avg(abs_error) / nullif(avg(hourly_abs_error), 0) AS gain_vs_hourly,
       avg(CAST(in_band AS DOUBLE)) AS coverage_p10_p90
FROM win GROUP BY zone, horizon_day ORDER BY horizon_day
""".strip()


PRICE_DECIMALS = 2
"""Errors and prices in EUR/MWh, to the precision the sources publish (as the API's prices)."""
RATIO_DECIMALS = 4
"""rMAE and coverage: 0.7143 is 71.43% (four digits say more than the hours behind them can)."""
_PRICE_COLUMNS = ("mae", "rmse", "naive_mae", "hourly_mae", "width_p10_p90", "pinball", "p10", "p50", "p90", "actual", "error",
                  "abs_error", "naive_weekly", "origin_mae")
_RATIO_COLUMNS = ("rmae", "coverage_p10_p90", "origin_coverage", "gain_vs_hourly")
DEFAULT_DAYS = 30
DEFAULT_WEEKS = 8


def rounded(df: pd.DataFrame) -> pd.DataFrame:
    """The measures at the precision the answers publish (prices 2 decimals, ratios 4)."""
    return df.round({**{c: PRICE_DECIMALS for c in _PRICE_COLUMNS if c in df.columns},
                     **{c: RATIO_DECIMALS for c in _RATIO_COLUMNS if c in df.columns}})


def records(df: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: rounded, times ISO 8601 with a ``+00:00`` offset as every other answer
    of the API gives them (``to_json`` alone would write ``Z``), NaN as None."""
    import json

    from spotcast_storage.text import iso_frame

    out = rounded(df)
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC")
    return json.loads(iso_frame(out).to_json(orient="records"))


@dataclass(frozen=True)
class AccuracyReport:
    """Everything `accuracy` prints, charts and serves for one zone."""

    zone: str
    days: int
    overall: pd.DataFrame
    by_horizon: pd.DataFrame
    by_origin: pd.DataFrame
    pairs: pd.DataFrame
    by_week: pd.DataFrame
    weeks: int = DEFAULT_WEEKS
    reason: str | None = None
    """Why the report is empty, and what to do about it (None when it is not)."""
    by_horizon_15min: pd.DataFrame | None = None
    """For a zone with quarter-hour prices: :func:`by_horizon_15min_sql` (None: hourly zone)."""

    @property
    def empty(self) -> bool:
        return self.pairs.empty

    def with_reason(self, reason: str | None) -> AccuracyReport:
        from dataclasses import replace

        return replace(self, reason=reason)

    def to_dict(self, pairs: bool = False) -> dict:
        """The answer of ``GET /accuracy`` (and ``accuracy --format json``); ``pairs`` adds the
        predicted-vs-actual hours the dashboard's history chart draws."""
        overall = records(self.overall)
        out = {"zone": self.zone, "days": self.days, "weeks": self.weeks, "naive": NAIVE, "unit": "EUR/MWh",
               "overall": overall[0] if overall else None, "reason": self.reason,
               "by_horizon": records(self.by_horizon), "by_origin": records(self.by_origin),
               "by_week": records(self.by_week),
               "by_horizon_15min": None if self.by_horizon_15min is None else records(self.by_horizon_15min)}
        if pairs:
            out["pairs"] = records(self.pairs)
        return out


@dataclass(frozen=True)
class OriginAccuracy:
    """One origin's published forecast against the actual prices, hour by hour."""

    zone: str
    origin: pd.Timestamp | None
    hours: pd.DataFrame
    reason: str | None = None

    def to_dict(self) -> dict:
        rows = records(self.hours)
        first = rows[0] if rows else {}
        keep = ("ts", "horizon_day", "p10", "p50", "p90", "actual", "error", "abs_error", "in_band", "naive_weekly")
        return {"zone": self.zone, "origin": None if self.origin is None else self.origin.isoformat(),
                "origin_date": first.get("origin_date"), "unit": "EUR/MWh",
                "model": first.get("model"), "model_version": first.get("model_version"),
                "fallback_reason": first.get("fallback_reason"),
                "hours": len(rows), "mae": first.get("origin_mae"), "coverage_p10_p90": first.get("origin_coverage"),
                "reason": self.reason, "forecast": [{k: r[k] for k in keep} for r in rows]}


QUERIES = {"overall": overall_sql, "by_horizon": by_horizon_sql, "by_origin": by_origin_sql, "pairs": pairs_sql,
           "by_week": by_week_sql}


def _params(name: str, zone: str, days: int, weeks: int) -> list[object]:
    return [zone, int(weeks if name == "by_week" else days)]


def quarter_report_in_store(sql: object, zone: str, days: int) -> pd.DataFrame:
    """:func:`by_horizon_15min_sql` through the store's ``sql(query, params)``."""
    return sql(by_horizon_15min_sql(quarter_rows_sql()), [zone, int(days)])  # type: ignore[operator]


def quarter_report_on_frames(forecasts: pd.DataFrame, prices: pd.DataFrame, zone: str, days: int) -> pd.DataFrame:
    """The same on frames (``forecasts`` v3 rows of both resolutions; ``prices`` rows with
    ``resolution_minutes``)."""
    return framesql.query(by_horizon_15min_sql(quarter_rows_sql("_forecasts", "_prices")), [zone, int(days)],
                          _forecasts=forecasts, _prices=prices)


def _origin_params(zone: str, origin: pd.Timestamp | None) -> list[object]:
    return [zone, None if origin is None else pd.Timestamp(origin).isoformat()]


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        if c in ("origin_date", "first_origin_date", "last_origin_date", "week_start"):
            df[c] = df[c].astype("str")
    return df


def run_on_frames(forecasts: pd.DataFrame, actuals: pd.DataFrame, zone: str, days: int,
                  weeks: int = DEFAULT_WEEKS) -> AccuracyReport:
    """The report from frames (any backend): the same SQL in the process's in-memory DuckDB
    (:mod:`spotcast_storage.framesql`)."""
    src = rows_sql("_forecasts", "_actuals")
    with framesql.session({"_forecasts": forecasts, "_actuals": actuals}) as con:
        out = {k: _finish(con.execute(f(src), _params(k, zone, days, weeks)).df()) for k, f in QUERIES.items()}
    return AccuracyReport(zone=zone, days=days, weeks=weeks, **out)


def run_in_store(sql: object, zone: str, days: int, weeks: int = DEFAULT_WEEKS) -> AccuracyReport:
    """The report through ``sql(query, params)`` on the store (the local backend's
    read-only ``project.sql``)."""
    src = rows_sql()
    out = {k: _finish(sql(f(src), _params(k, zone, days, weeks))) for k, f in QUERIES.items()}  # type: ignore[operator]
    return AccuracyReport(zone=zone, days=days, weeks=weeks, **out)


def origin_on_frames(forecasts: pd.DataFrame, actuals: pd.DataFrame, zone: str,
                     origin: pd.Timestamp | None) -> OriginAccuracy:
    """:func:`origin_sql` on frames (any backend)."""
    df = _finish(framesql.query(origin_sql(rows_sql("_forecasts", "_actuals")), _origin_params(zone, origin),
                                _forecasts=forecasts, _actuals=actuals))
    return _origin_report(zone, origin, df)


def origin_in_store(sql: object, zone: str, origin: pd.Timestamp | None) -> OriginAccuracy:
    """:func:`origin_sql` through the store's ``sql(query, params)``."""
    df = _finish(sql(origin_sql(rows_sql()), _origin_params(zone, origin)))  # type: ignore[operator]
    return _origin_report(zone, origin, df)


def _origin_report(zone: str, origin: pd.Timestamp | None, df: pd.DataFrame) -> OriginAccuracy:
    if origin is None and not df.empty:
        origin = pd.Timestamp(df["origin"].iloc[0])
    return OriginAccuracy(zone=zone, origin=None if origin is None else pd.Timestamp(origin).tz_convert("UTC"),
                          hours=df)
