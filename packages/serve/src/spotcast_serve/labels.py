"""Names and titles of a forecast by what a reader acts on: the delivery days it covers and the
time it was made, both in the zone's local time (a file named by its origin's date was read as
"the forecast for that day", which it never was). Pure functions.

File stem: ``forecast_<zone>_<first day>_<last day>_made_<local date>T<HHMM><zone abbrev>``, e.g.
``forecast_SE3_2024-09-22_2024-09-28_made_2024-09-20T1600CEST``: only letters, digits, ``-`` and
``_`` (safe on every file system, no ``:``), full dates on both ends (a range across a month or a
year stays unambiguous), and names of one zone sort by first delivery day, then by time made. The
abbreviation (CET/CEST) tells the two 02:30 of an autumn night apart.
"""

from __future__ import annotations

import pandas as pd


def delivery_days(ts: pd.Series, tz: str) -> tuple[str, str]:
    """First and last local delivery day (ISO dates) of the target hours ``ts``."""
    local = pd.to_datetime(ts, utc=True).dt.tz_convert(tz)
    return local.min().date().isoformat(), local.max().date().isoformat()


def day_range(first: str, last: str) -> str:
    """``2024-09-22..28``, ``2024-09-28..10-04``, ``2024-12-29..2025-01-04``, or one date."""
    if first == last:
        return first
    if first[:4] != last[:4]:
        return f"{first}..{last}"
    if first[:7] != last[:7]:
        return f"{first}..{last[5:]}"
    return f"{first}..{last[8:]}"


def made_label(made_at: pd.Timestamp, tz: str) -> str:
    """``2024-09-20 16:00 CEST``: when the forecast was made, in the zone's local time."""
    t = pd.Timestamp(made_at).tz_convert(tz)
    return f"{t:%Y-%m-%d %H:%M} {t.tzname()}"


def title(zone: str, ts: pd.Series, made_at: pd.Timestamp, tz: str) -> str:
    """``SE3 2024-09-22..28, made 2024-09-20 16:00 CEST``."""
    return f"{zone} {day_range(*delivery_days(ts, tz))}, made {made_label(made_at, tz)}"


def file_stem(zone: str, ts: pd.Series, made_at: pd.Timestamp, tz: str, unit: str = "eur_mwh") -> str:
    """The file name without suffix (see the module docstring); a unit other than EUR/MWh is
    appended (``..._sek_kwh``) so files in two units never overwrite each other."""
    first, last = delivery_days(ts, tz)
    t = pd.Timestamp(made_at).tz_convert(tz)
    stem = f"forecast_{zone}_{first}_{last}_made_{t:%Y-%m-%dT%H%M}{t.tzname()}"
    return stem if unit == "eur_mwh" else f"{stem}_{unit}"
