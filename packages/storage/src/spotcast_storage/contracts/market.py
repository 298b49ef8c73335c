"""Contracts written by the ingest stage: prices, weather, exogenous series."""

from __future__ import annotations

from spotcast_storage.contracts.base import Column, Contract

PRICES = Contract(
    name="prices",
    version=1,
    primary_key=("zone", "ts"),
    event_time="ts",
    known_at="known_at",
    description="Day-ahead spot prices at their native resolution (60 min until 2025-09-30, "
    "15 min in the Nordics from 2025-10-01), one row per bidding zone and delivery period. "
    "known_at is the auction's publication time: 13:00 CET/CEST (Europe/Stockholm) on the day "
    "before the delivery day (the zone's local day), in UTC.",
    columns=(
        Column("zone", "string", "bidding zone, e.g. SE3, DK1", nullable=False),
        Column("ts", "timestamp", "start of the delivery period, UTC", nullable=False),
        Column("price_eur_mwh", "double", "price in EUR/MWh (canonical unit)", nullable=False),
        Column("price_sek_kwh", "double", "price in SEK/kWh where the source gives it, else null"),
        Column("resolution_minutes", "bigint", "length of the delivery period: 60 or 15", nullable=False),
        Column("known_at", "timestamp", "when the day-ahead auction published the price: 13:00 CET/CEST "
               "the day before the (local) delivery day, UTC", nullable=False),
        Column("source", "string", "source plugin that produced the row", nullable=False),
    ),
)

WEATHER = Contract(
    name="weather",
    version=1,
    primary_key=("zone", "ts", "kind", "issued_at"),
    event_time="ts",
    known_at="issued_at",
    description="Hourly weather per zone: observations (kind=observed, issued_at = ts) and "
    "forecasts (kind=forecast, issued_at = when the forecast was made: the model run time when "
    "the source gives it, else the request time floored to the hour).",
    columns=(
        Column("zone", "string", "bidding zone whose reference location this is", nullable=False),
        Column("ts", "timestamp", "hour the value is for, UTC", nullable=False),
        Column("kind", "string", "observed | forecast", nullable=False),
        Column("issued_at", "timestamp", "when the value became known, UTC", nullable=False),
        Column("temperature_2m", "double", "air temperature at 2 m, °C"),
        Column("wind_speed_10m", "double", "wind speed at 10 m, km/h"),
        Column("wind_speed_100m", "double", "wind speed at 100 m, km/h"),
        Column("shortwave_radiation", "double", "global horizontal irradiance, W/m²"),
        Column("cloud_cover", "double", "total cloud cover, %"),
        Column("precipitation", "double", "precipitation in the hour, mm"),
        Column("source", "string", "source plugin", nullable=False),
    ),
)

EXOGENOUS = Contract(
    name="exogenous",
    version=1,
    primary_key=("zone", "ts", "series", "issued_at"),
    event_time="ts",
    known_at="issued_at",
    description="Known-in-advance series in long format (day-ahead load, wind and solar "
    "forecasts, or a user's own exogenous columns), one row per zone, hour, series and issue time. "
    "Day-ahead forecasts for delivery day D are dated 10:00 CET on D-1 (load, and a user's "
    "columns) or 18:00 CET on D-1 (ENTSO-E wind and solar).",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("ts", "timestamp", "hour the value is for, UTC", nullable=False),
        Column("series", "string", "e.g. load_forecast, wind_forecast, solar_forecast, exogenous_1", nullable=False),
        Column("issued_at", "timestamp", "when the value became known, UTC", nullable=False),
        Column("value", "double", "value in the series' unit (MW for load/wind/solar)"),
        Column("unit", "string", "unit of value, e.g. MW"),
        Column("source", "string", "source plugin", nullable=False),
    ),
)
