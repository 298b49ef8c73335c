"""Contracts written by the serve stage (``spotcast-serve predict`` and its `spotcast run` handler).

One row per zone, forecast origin and target hour. An origin's rows are written in one commit
and rewritten only when a different model version forecasts it (re-running with the same model
writes nothing). Hours for which the model gave no median are absent rather than null. In a
local store the view ``forecast_accuracy`` joins these rows with ``prices_hourly`` (see
``spotcast_serve.accuracy``).
"""

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
        Column("p10", "double", "10th percentile, EUR/MWh (p10 <= p50 <= p90 whenever all three are present)"),
        Column("p50", "double", "median forecast, EUR/MWh", nullable=False),
        Column("p90", "double", "90th percentile, EUR/MWh"),
        Column("model", "string", "registered model name", nullable=False),
        Column("model_version", "bigint", "registered model version", nullable=False),
        Column("created_at", "timestamp", "when the forecast was written, UTC", nullable=False),
    ),
)
