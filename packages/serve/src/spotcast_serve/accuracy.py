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

import duckdb
import pandas as pd

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


@dataclass(frozen=True)
class AccuracyReport:
    """Everything `accuracy` prints, charts and serves for one zone."""

    zone: str
    days: int
    overall: pd.DataFrame
    by_horizon: pd.DataFrame
    by_origin: pd.DataFrame
    pairs: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.pairs.empty

    def to_dict(self) -> dict:
        import json

        def records(df: pd.DataFrame) -> list:
            return json.loads(df.to_json(orient="records", date_format="iso", date_unit="s"))

        overall = records(self.overall)
        return {"zone": self.zone, "days": self.days, "naive": NAIVE,
                "overall": overall[0] if overall else None,
                "by_horizon": records(self.by_horizon), "by_origin": records(self.by_origin)}


QUERIES = {"overall": overall_sql, "by_horizon": by_horizon_sql, "by_origin": by_origin_sql, "pairs": pairs_sql}


def _params(zone: str, days: int) -> list[object]:
    return [zone, int(days)]


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        if c in ("origin_date", "first_origin_date", "last_origin_date"):
            df[c] = df[c].astype("str")
    return df


def run_on_frames(forecasts: pd.DataFrame, actuals: pd.DataFrame, zone: str, days: int) -> AccuracyReport:
    """The report from frames (any backend): the same SQL in an in-memory DuckDB."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_forecasts", forecasts)
        con.register("_actuals", actuals)
        src = rows_sql("_forecasts", "_actuals")
        out = {k: _finish(con.execute(f(src), _params(zone, days)).df()) for k, f in QUERIES.items()}
    finally:
        con.close()
    return AccuracyReport(zone=zone, days=days, **out)


def run_in_store(sql: object, zone: str, days: int) -> AccuracyReport:
    """The report through ``sql(query, params)`` on the store (the local backend's
    read-only ``project.sql``)."""
    src = rows_sql()
    out = {k: _finish(sql(f(src), _params(zone, days))) for k, f in QUERIES.items()}  # type: ignore[operator]
    return AccuracyReport(zone=zone, days=days, **out)
