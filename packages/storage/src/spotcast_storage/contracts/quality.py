"""The data-quality gate's shared parts: each zone's price limits, the checks' settings, and the
``data_quality`` contract in which ingest stores one flag per zone, delivery day and check.

Ingest refuses prices outside a zone's hard limits (and the store refuses non-finite numbers)
before anything is written; the day-level checks (completeness, flatliners, limits, finiteness)
are computed from the stored prices after each ingest batch and written here in the same run.
Serve reads these flags before it publishes a forecast (see the serve README).
"""

from __future__ import annotations

from spotcast_storage.contracts.base import Column, Contract
from spotcast_storage.zones import ZONES, parse_zone

SDAC_LIMITS = (-500.0, 4000.0)
"""SDAC's harmonised minimum and maximum clearing prices for the single day-ahead coupling,
EUR/MWh (the maximum rose from 3000 to 4000 in 2022 and has stayed there): no day-ahead price
of a coupled zone can lie outside them, so one that does is broken data."""

WIDE_LIMITS = (-10_000.0, 20_000.0)
"""For zones of the table that clear outside SDAC (CH, RS, IE-SEM), whose own limits are not in
the table: only values no electricity market has cleared at are refused (1e308, a unit slip of
1000x)."""

ZONE_PRICE_LIMITS: dict[str, tuple[float, float]] = {z.code: SDAC_LIMITS for z in ZONES.values() if z.sdac}
"""Hard limits (EUR/MWh) of each coupled zone's day-ahead prices (the ``sdac`` column of
:data:`spotcast_storage.zones.ZONES`); any other zone gets :data:`WIDE_LIMITS`."""

DEFAULT_FLATLINER_HOURS = 8
"""A day is flagged when one price repeats for this many hours in a row or more (at 15-minute
resolution: 32 quarter-hours). Measured on real data (2,900+ days: SE4 2023-2024 and EPEX
2025-2026, Belgium 2011-2016, PJM 2013-2018): the longest real run within a day was 7 hours
(SE4), 6 hours (BE) and 1 hour (PJM); a feed that got stuck repeats its value far longer (a
whole day is 24). Hydro zones (SE1, SE2, NO) were not measured: raise it with
``SPOTCAST_FLATLINER_HOURS`` if their flat nights trip it."""

CHECKS = ("completeness", "flatliner", "limits", "finite")


def price_limits(zone: str) -> tuple[float, float]:
    """``(lowest, highest)`` price a zone's day-ahead market can clear at, EUR/MWh."""
    return ZONE_PRICE_LIMITS.get(parse_zone(zone).code, WIDE_LIMITS)


DATA_QUALITY = Contract(
    name="data_quality",
    version=1,
    primary_key=("zone", "day", "check_name"),
    event_time="day",
    description="Day-level checks of the stored day-ahead prices, per zone, local delivery day and check "
    "(completeness, flatliner, limits, finite), written by ingest in the same run as the prices. "
    "A forecast whose inputs include a failed day falls back to the naive forecast.",
    columns=(
        Column("zone", "string", "bidding zone", nullable=False),
        Column("day", "timestamp", "the local delivery day, as the UTC instant of its local midnight", nullable=False),
        Column("check_name", "string", "completeness | flatliner | limits | finite", nullable=False),
        Column("local_date", "string", "the delivery day as a local date, YYYY-MM-DD", nullable=False),
        Column("passed", "boolean", "False when the day fails the check", nullable=False),
        Column("value", "double", "what was measured: missing periods, longest run of one price in hours, "
               "prices outside the limits, non-finite prices"),
        Column("detail", "string", "what failed, e.g. 'missing 2 of 24 periods of 60 min: 02:00, 03:00'",
               nullable=False),
    ),
)
