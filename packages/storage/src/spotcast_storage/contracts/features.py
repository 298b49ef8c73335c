"""Contracts written by the features stage: hourly labels, origin-keyed features, the training view.

The features stage (``spotcast-features``) writes :data:`PRICES_HOURLY` and
:data:`PRICE_FEATURES`; train and serve read them, and read training data through
:func:`get_or_create_training_view` so that all three use one definition.

Point-in-time rule of :data:`PRICE_FEATURES`: every value in a row keyed ``(zone, origin, ts)``
is computed only from inputs known at ``origin`` -- a price when its ``known_at <= origin``, a
weather or exogenous forecast when its ``issued_at <= origin``, a weather observation when its
``ts < origin``. Input rows are read within a bounded window around the origin (35 local days
of price history, targets up to ``horizon_days + 1`` local days ahead), which is what lets the
stage recompute only the origins whose inputs changed.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.contracts.base import Column, Contract

DEFAULT_ORIGIN_HOUR = 10
"""Local hour (zone time) of the daily forecast origin: before the ~13:00 CET day-ahead auction,
so day D's prices are known and D+1's are not."""
DEFAULT_HORIZON_DAYS = 7
"""Local calendar days of targets per origin (168 rows, 167/169 when a DST change falls inside)."""

WEATHER_VARIABLES = (
    "temperature_2m", "wind_speed_10m", "wind_speed_100m", "shortwave_radiation", "cloud_cover",
    "precipitation",
)
"""Columns of ``weather`` v1 carried into features as ``wx_<name>``."""
EXO_SERIES = ("load_forecast", "wind_forecast", "solar_forecast")
"""Series of ``exogenous`` v1 carried into features as ``exo_<series>`` (other series need a new
feature-group version, because a version's columns are fixed)."""

PRICES_HOURLY = Contract(
    name="prices_hourly",
    version=1,
    primary_key=("zone", "ts"),
    event_time="ts",
    known_at="known_at",
    description="Hourly mean day-ahead price per zone (the forecast label), from the native-"
    "resolution prices (60 or 15 min); written by spotcast-features.",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("ts", "timestamp", "start of the hour, UTC", nullable=False),
        Column("price_eur_mwh", "double", "time-weighted mean price of the periods in the hour, EUR/MWh",
               nullable=False),
        Column("known_at", "timestamp", "when the last period of the hour was published (max known_at), UTC",
               nullable=False),
        Column("n_periods", "bigint", "number of native periods averaged (1 for hourly, 4 for 15-min data)",
               nullable=False),
    ),
)

_LAG = ("EUR/MWh: hourly mean price of the same local hour {d} day(s) before the target when known at "
        "the origin, otherwise the newest known value of that hour on an earlier day (as-of)")

PRICE_FEATURES = Contract(
    name="price_features",
    version=1,
    primary_key=("zone", "origin", "ts"),
    event_time="origin",
    description="Leak-free features per forecast origin and target hour: one origin per local day "
    "(default 10:00 zone time), targets every hour from the first hour whose price is not known at "
    "the origin (normally D+1 00:00 local) to the end of the horizon (default 7 local days). Every "
    "value uses only inputs known at the origin.",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("origin", "timestamp", "forecast origin, UTC: the row uses only data known at this instant",
               nullable=False),
        Column("ts", "timestamp", "target hour (start), UTC", nullable=False),
        # calendar (zone-local time of the target)
        Column("horizon_hours", "bigint", "whole hours from origin to ts (ts - origin)", nullable=False),
        Column("horizon_day", "bigint", "local calendar day of the target counted from the first target "
               "day: 1 (normally D+1) ... horizon_days", nullable=False),
        Column("hour", "bigint", "local hour of ts, 0-23 (the repeated hour of a 25-hour day appears "
               "twice, 02 is absent on a 23-hour day)", nullable=False),
        Column("weekday", "bigint", "local weekday of ts, 0 = Monday ... 6 = Sunday", nullable=False),
        Column("month", "bigint", "local month of ts, 1-12", nullable=False),
        Column("day_of_year", "bigint", "local day of year of ts, 1-366", nullable=False),
        Column("is_holiday", "bigint", "1 when the local day is a public holiday of the zone's country "
               "(`holidays` package; for Sweden also the de-facto holidays Midsummer, Christmas and "
               "New Year's Eve), else 0", nullable=False),
        Column("is_bridge_day", "bigint", "1 when the local day is a working day (Mon-Fri, not a holiday) "
               "between two non-working days, e.g. the Friday after Ascension Day, else 0", nullable=False),
        Column("is_dst_day", "bigint", "1 when the local day has 23 or 25 hours (DST change), else 0",
               nullable=False),
        # price history known at the origin
        Column("price_lag_1d", "double", _LAG.format(d=1) + "; the 'naive daily' forecast"),
        Column("price_lag_2d", "double", _LAG.format(d=2)),
        Column("price_lag_3d", "double", _LAG.format(d=3)),
        Column("price_lag_7d", "double", _LAG.format(d=7) + "; the 'naive weekly' forecast"),
        Column("last_day_mean", "double", "EUR/MWh: mean of the hourly prices of the newest local day with "
               "a price known at the origin (normally the origin's own day)"),
        Column("last_day_min", "double", "EUR/MWh: min of that day's known hourly prices"),
        Column("last_day_max", "double", "EUR/MWh: max of that day's known hourly prices"),
        Column("roll7_mean", "double", "EUR/MWh: mean of the known hourly prices of the 7 local days "
               "ending with that newest known day"),
        Column("roll7_std", "double", "EUR/MWh: sample standard deviation of the same 7 days"),
        Column("roll28_mean", "double", "EUR/MWh: mean of the known hourly prices of the 28 local days "
               "ending with that newest known day"),
        Column("roll28_std", "double", "EUR/MWh: sample standard deviation of the same 28 days"),
        # weather for the target hour
        Column("wx_temperature_2m", "double", "°C at ts: newest forecast issued at or before the origin"),
        Column("wx_wind_speed_10m", "double", "km/h at ts, as wx_temperature_2m"),
        Column("wx_wind_speed_100m", "double", "km/h at ts, as wx_temperature_2m"),
        Column("wx_shortwave_radiation", "double", "W/m² at ts, as wx_temperature_2m"),
        Column("wx_cloud_cover", "double", "% at ts, as wx_temperature_2m"),
        Column("wx_precipitation", "double", "mm in the hour at ts, as wx_temperature_2m"),
        Column("wx_is_observed", "bigint", "1 when no forecast issued by the origin exists for ts and the "
               "wx_ values are observed values standing in for it: the newest observation of the same "
               "local hour before the origin (persistence; an observation at ts itself is not known at "
               "the origin); 0 when they come from a forecast or are null", nullable=False),
        # exogenous known-in-advance series
        Column("exo_load_forecast", "double", "MW at ts: newest load forecast issued at or before the "
               "origin, null when absent"),
        Column("exo_wind_forecast", "double", "MW at ts: newest wind-generation forecast issued at or "
               "before the origin, null when absent"),
        Column("exo_solar_forecast", "double", "MW at ts: newest solar-generation forecast issued at or "
               "before the origin, null when absent"),
    ),
)

PRICE_FEATURES_KEY = PRICE_FEATURES.primary_key

TRAINING_VIEW = ("price_training", 1)
"""(name, version) of the feature view over price_features v1 with the label joined."""
LABEL = "target_price_eur_mwh"
"""The label column of the training view: prices_hourly.price_eur_mwh at ts."""


def training_query(fs: Any, features_version: int = PRICE_FEATURES.version) -> Any:
    """price_features joined with the hourly actual price at ``ts``.

    ``ts`` is a join key of prices_hourly, so this is an exact equi-join (the label *is* the price
    of the target hour); rows whose price is not known yet get a null label.
    """
    feats = fs.get_feature_group(PRICE_FEATURES.name, features_version)
    hourly = PRICES_HOURLY.get(fs)
    return feats.select_all().join(hourly.select(["price_eur_mwh"]), on=["zone", "ts"], prefix="target_")


def get_or_create_training_view(fs: Any, features_version: int = PRICE_FEATURES.version) -> Any:
    """The feature view train and serve read (``price_training`` v1 over price_features v1;
    version N over price_features vN). Both feature groups must hold data: run
    ``spotcast-features build`` first. Splits (``train_test_split``) are time-ordered on origin."""
    name, version = TRAINING_VIEW
    if features_version != PRICE_FEATURES.version:
        version = features_version
    return fs.get_or_create_feature_view(
        name=name, version=version, query=training_query(fs, features_version), labels=[LABEL],
        description="price_features with the hourly actual price at ts as label "
        f"({LABEL}); time-ordered splits on origin",
    )


__all__ = [
    "DEFAULT_HORIZON_DAYS", "DEFAULT_ORIGIN_HOUR", "EXO_SERIES", "LABEL", "PRICES_HOURLY",
    "PRICE_FEATURES", "PRICE_FEATURES_KEY", "TRAINING_VIEW", "WEATHER_VARIABLES", "get_or_create_training_view",
    "training_query",
]
