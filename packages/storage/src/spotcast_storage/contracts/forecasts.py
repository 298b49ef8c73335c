"""Contracts written by the serve stage."""

from __future__ import annotations

from spotcast_storage.contracts.base import Column, Contract

FORECASTS = Contract(
    name="forecasts",
    version=1,
    primary_key=("zone", "origin", "ts"),
    event_time="origin",
    description="Published forecasts: per zone and forecast origin, the hourly p10/p50/p90 "
    "price for each target hour, with the model version that made it.",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("origin", "timestamp", "forecast origin: the time the forecast uses data up to, UTC", nullable=False),
        Column("ts", "timestamp", "target hour (start), UTC", nullable=False),
        Column("p10", "double", "10th percentile, EUR/MWh"),
        Column("p50", "double", "median forecast, EUR/MWh", nullable=False),
        Column("p90", "double", "90th percentile, EUR/MWh"),
        Column("model", "string", "registered model name", nullable=False),
        Column("model_version", "bigint", "registered model version", nullable=False),
        Column("created_at", "timestamp", "when the forecast was written, UTC", nullable=False),
    ),
)
