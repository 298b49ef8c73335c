"""Quarter-hour forecasts (issue 15), defined once in SQL.

Since 2025-10-01 the Nordic day-ahead market clears 96 quarter-hours a day. The model forecasts
hourly (all history before that date is hourly); each hourly vintage becomes
quarter-hours by a *mean-preserving linear ramp*: the four quarters of an hour lie on a line
through the hour's value with the slope of its neighbouring hours (damped by
:data:`DAMPING`), so their mean is the hourly value exactly and nothing is silently repeated.
The p10 and p90 move with the median's ramp, so the band keeps its hourly width and order.

The method was chosen by measurement on real SE4 quarter-hour prices (benchmarks/quarter.py,
benchmarks/README.md "quarter-hours"): the ramp is 1.7% below the hourly forecast repeated four
times at 15-minute resolution, a learned intra-hour shape 2.2% (at a model to train and ship);
the ramp needs nothing but the hourly vintage, which is why it is what serve publishes.

The quarter-hours are *stored*: serve computes them with :func:`vintage_rows` when it makes a
vintage and writes them beside its hourly rows (``forecasts`` v3, ``resolution_minutes = 15``)
in the same commit with the same ``made_at``. A published quarter-hour forecast therefore never
changes, even when something the ramp's start depends on changes later (earlier 15-minute
prices backfilled after publication). Readers -- files, API, dashboard, accuracy and the
``forecasts_15min`` view (:func:`view_sql`) -- read the stored rows; :func:`quarters_sql` stays
the one definition of the ramp.

A vintage gets quarter-hours from the zone's first stored quarter-hour price on (``prices`` rows
with ``resolution_minutes = 15``) as stored when the vintage is made; hours before that, and zones
that clear hourly, have none. A DST day has 92 or 100 quarters (23 or 25 hours). The SQL runs in
an in-memory DuckDB over frames (and in the store for the view). It lives in storage because
serve publishes with it and train scores its backtests with it, and stages never import each
other.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_storage.contracts.forecasts import FORECASTS, published_sql
from spotcast_storage.contracts.market import PRICES
from spotcast_storage.errors import ValidationError

DAMPING = 1.25
"""Scale of the neighbours' slope: chosen on the first 91 quarter-hour days of SE4 (selection),
scored on the 234 after (benchmarks/quarter.py)."""
OFFSETS = (-0.375, -0.125, 0.125, 0.375)
"""Centre of each quarter relative to its hour's centre, in hours (they sum to zero)."""
RESOLUTIONS = {"60min": 60, "15min": 15}
"""The resolutions readers may ask for (``resolution=15min|60min``)."""
VIEW_NAME = "forecasts_15min"
PRICES_TABLE = f"{PRICES.name}_v{PRICES.version}"
COLUMNS = ["zone", "origin", "made_at", "ts", "resolution_minutes", "p10", "p50", "p90", "model",
           "model_version", "fallback_reason", "p50_hourly"]
"""Columns of :func:`to_quarters`; ``p50_hourly`` is the hour's own median, what the hourly product
says for each of its quarters, to score the quarter-hours against."""


def parse_resolution(text: str | None) -> int:
    """``15min`` -> 15, ``60min`` (or None) -> 60; anything else is refused with the choices."""
    if text is None:
        return 60
    key = str(text).strip().lower()
    if key in ("15", "15m", "pt15m"):
        key = "15min"
    if key in ("60", "60m", "1h", "pt60m", "hourly"):
        key = "60min"
    if key not in RESOLUTIONS:
        raise ValidationError(f"unknown resolution {text!r}; use one of {', '.join(RESOLUTIONS)}")
    return RESOLUTIONS[key]


def quarters_sql(hourly: str, since: str) -> str:
    """Quarter-hour rows of the hourly forecast rows in ``hourly`` (a subquery, table or frame
    with zone, origin, made_at, ts, p10, p50, p90, model, model_version, fallback_reason) for
    the zones and times in ``since`` (zone, since: the first quarter-hour delivery period)."""
    offsets = ", ".join(f"({k}, {o})" for k, o in enumerate(OFFSETS))
    return f"""
WITH q(k, off) AS (VALUES {offsets}),
h AS (
    SELECT f.*,
           lag(f.p50) OVER w AS prev_p50, lag(f.ts) OVER w AS prev_ts,
           lead(f.p50) OVER w AS next_p50, lead(f.ts) OVER w AS next_ts
    FROM ({hourly}) AS f
    JOIN ({since}) AS s ON s.zone = f.zone AND f.ts >= s.since
    WINDOW w AS (PARTITION BY f.zone, f.origin, f.made_at, f.model ORDER BY f.ts)
),
sl AS (
    SELECT *,
           CASE WHEN prev_ts = ts - INTERVAL 1 HOUR THEN prev_p50 END AS p_prev,
           CASE WHEN next_ts = ts + INTERVAL 1 HOUR THEN next_p50 END AS p_next
    FROM h
),
ramp AS (
    SELECT *, {DAMPING} * coalesce((p_next - p_prev) / 2, p_next - p50, p50 - p_prev, 0) AS slope FROM sl
)
SELECT r.zone, r.origin, r.made_at, r.ts + to_minutes(CAST(15 * q.k AS BIGINT)) AS ts,
       CAST(15 AS BIGINT) AS resolution_minutes,
       r.p10 + r.slope * q.off AS p10, r.p50 + r.slope * q.off AS p50, r.p90 + r.slope * q.off AS p90,
       r.model, r.model_version, r.fallback_reason, r.p50 AS p50_hourly
FROM ramp AS r CROSS JOIN q
""".strip()


def published_quarters_sql(forecasts: str) -> str:
    """The stored quarter-hour rows of every origin's published vintage in ``forecasts`` (a table
    or registered frame of ``forecasts`` v3 rows), in :data:`COLUMNS`: ``p50_hourly`` is the
    median of the same vintage's hour the quarter lies in."""
    cols = ", ".join(f"q.{c}" for c in COLUMNS if c != "p50_hourly")
    return f"""
SELECT {cols}, h.p50 AS p50_hourly
FROM ({published_sql(forecasts, resolution=15)}) AS q
LEFT JOIN {forecasts} AS h
  ON h.zone = q.zone AND h.origin = q.origin AND h.made_at = q.made_at AND h.resolution_minutes = 60
 AND q.ts >= h.ts AND q.ts < h.ts + INTERVAL 1 HOUR
""".strip()


def view_sql(forecasts: str) -> str:
    """The ``forecasts_15min`` view: every origin's published vintage at 15 minutes, as stored."""
    return f"SELECT * FROM ({published_quarters_sql(forecasts)}) ORDER BY zone, origin, ts"


def first_quarter_hours(fs: Any, zone: str | None = None) -> dict[str, pd.Timestamp]:
    """Per zone (or for ``zone`` only), its first stored quarter-hour delivery period: where its
    forecasts get quarter-hours. Zones that clear hourly (or a store without prices) are absent."""
    from spotcast_storage.errors import NotFoundError

    try:
        fg = fs.get_feature_group(PRICES.name, PRICES.version)
    except NotFoundError:
        return {}
    cond = fg.resolution_minutes == 15
    if zone is not None:
        cond = cond & (fg.zone == zone)
    df = fg.select(["zone", "ts"]).filter(cond).read()
    if df.empty:
        return {}
    first = pd.to_datetime(df["ts"], utc=True).groupby(df["zone"].astype(str)).min()
    return {str(z): pd.Timestamp(t) for z, t in first.items()}


def to_quarters(hourly: pd.DataFrame, since: pd.Timestamp | None) -> pd.DataFrame:
    """The quarter-hours of one zone's hourly vintage rows (a frame), from ``since`` on (None:
    the zone clears hourly, no rows)."""
    if since is None or hourly.empty:
        return pd.DataFrame(columns=COLUMNS)
    from spotcast_storage import framesql

    frame = hourly.copy()
    for col in ("fallback_reason", "model"):
        if col not in frame:
            frame[col] = None
    zone = str(frame["zone"].iloc[0])
    out = framesql.query(f"SELECT * FROM ({quarters_sql('SELECT * FROM _hourly', 'SELECT * FROM _since')}) "
                         "ORDER BY origin, made_at, ts",
                         _hourly=frame, _since=pd.DataFrame({"zone": [zone], "since": [pd.Timestamp(since)]}))
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    for col in ("origin", "made_at"):
        out[col] = pd.to_datetime(out[col], utc=True)
    return out[COLUMNS].reset_index(drop=True)


def quarter_rows(hourly: pd.DataFrame, since: pd.Timestamp | None) -> pd.DataFrame:
    """The quarter-hour rows (``forecasts`` v3, ``resolution_minutes = 15``) of ``hourly``, one
    zone's hourly vintage rows, from ``since`` on (None: the zone clears hourly, no rows): the
    ramp of :func:`quarters_sql`, with each quarter's ``created_at`` that of its hour."""
    if "resolution_minutes" in hourly and (pd.to_numeric(hourly["resolution_minutes"]) != 60).any():
        raise ValidationError("quarter-hours are made from hourly rows (resolution_minutes 60) only")
    q = to_quarters(hourly, since)
    if q.empty:
        return FORECASTS.conform(q.drop(columns=["p50_hourly"]).assign(created_at=pd.Series(dtype="datetime64[us, UTC]")))
    created = hourly[["origin", "made_at", "ts", "created_at"]].assign(
        origin=lambda d: pd.to_datetime(d["origin"], utc=True), made_at=lambda d: pd.to_datetime(d["made_at"], utc=True),
        hour=lambda d: pd.to_datetime(d["ts"], utc=True)).drop(columns=["ts"])
    q = q.assign(hour=q["ts"].dt.floor("h")).merge(created, on=["origin", "made_at", "hour"], how="left")
    q["created_at"] = pd.to_datetime(q["created_at"], utc=True)
    return FORECASTS.conform(q.drop(columns=["p50_hourly", "hour"]))


def vintage_rows(hourly: pd.DataFrame, since: pd.Timestamp | None) -> pd.DataFrame:
    """Every row serve stores for one vintage: its hourly rows (``resolution_minutes = 60``) and,
    from ``since`` (the zone's first quarter-hour price; None: none) on, their quarter-hours
    (:func:`quarter_rows`), in one frame for one insert: a vintage is never partly written."""
    h = FORECASTS.conform(hourly)
    q = quarter_rows(h, since)
    if q.empty:
        return h.reset_index(drop=True)
    return FORECASTS.conform(pd.concat([h, q], ignore_index=True))
