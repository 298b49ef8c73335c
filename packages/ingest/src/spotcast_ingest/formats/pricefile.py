"""Price files users bring: CSV or Parquet with a time column, a price column (EUR/MWh) and
optional exogenous columns, including the epftoolbox layout
(``Date, Price, Exogenous 1, Exogenous 2`` or the real files' ``Date, Prices, Generation
forecast, System load forecast``: hourly, local clock, 24 rows every day).

Times with an offset (``2024-01-01T00:00:00+01:00`` or ``Z``) are taken as given. Naive
times are the local clock of the zone's time zone. epftoolbox files smooth DST to 24 rows a
day: on the spring day the row for the hour that does not exist is dropped (it was filled in
by the authors), and the ingest summary says so, as it does for rows with a blank price; on the autumn day the single 02:00 row is taken as the first 02:00 (CEST),
so the second 02:00 stays missing rather than invented. A file with a repeated 02:00 on the
autumn day (a true local clock) is resolved in order.

Quarter-hour files on a naive local clock that pad every day to 96 slots (as some public exports
do): on the spring day the four slots of the hour that does not exist are left out (92 remain,
with a note); on the autumn day 02:00-02:45 appear once where the clock has them twice, so which
pass a price belongs to is unknown, and the file is refused with an error that says how to
export it instead (UTC times or offsets, or the repeated quarter-hours twice).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from spotcast_ingest import frames, timeutil
from spotcast_ingest.errors import ParseError, ValidationError

TIME_NAMES = ("date", "datetime", "time", "ts", "timestamp", "time_start", "hour")
PRICE_NAMES = ("price", "prices", "price_eur_mwh", "spot", "spot_price", "day_ahead_price")


def read_table(path: Path) -> pd.DataFrame:
    """The file as a frame with stripped column names (epftoolbox headers have leading spaces)."""
    if not path.exists():
        raise ValidationError(f"price file {path} does not exist")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, skipinitialspace=True)
    except Exception as exc:  # pandas raises many types for unreadable files
        raise ValidationError(f"cannot read price file {path}: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def series_name(column: str) -> str:
    """``Generation forecast`` -> ``generation_forecast``; ``Exogenous 1`` -> ``exogenous_1``."""
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") or "exogenous"


def pick_columns(df: pd.DataFrame, time_column: str | None, price_column: str | None,
                 where: str) -> tuple[str, str, list[str]]:
    """The time column, the price column (given, or found by name, or the one after the time
    column) and the remaining numeric columns as exogenous series."""
    cols = list(df.columns)

    def find(given: str | None, names: tuple[str, ...], what: str) -> str | None:
        if given:
            if given not in cols:
                raise ValidationError(f"{where}: no {what} column {given!r}; columns are {cols}")
            return given
        return next((c for c in cols if c.lower() in names), None)

    time_col = find(time_column, TIME_NAMES, "time") or cols[0]
    price_col = find(price_column, PRICE_NAMES, "price")
    if price_col is None:
        rest = [c for c in cols if c != time_col]
        if not rest:
            raise ValidationError(f"{where}: needs a time and a price column; columns are {cols}")
        price_col = rest[0]
    exo = [c for c in cols if c not in (time_col, price_col)]
    non_numeric = [c for c in [price_col, *exo] if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise ValidationError(f"{where}: column(s) {non_numeric} are not numeric; pass -o price_column=... "
                              f"/ -o time_column=... if the columns were guessed wrong (columns are {cols})")
    return time_col, price_col, exo


def to_utc(times: pd.Series, tz: str, where: str) -> pd.Series:
    """UTC instants of a time column (see the module docstring for naive local clocks)."""
    if pd.api.types.is_datetime64_any_dtype(times) and getattr(times.dt, "tz", None) is not None:
        return times.dt.tz_convert("UTC")
    text = times.astype(str).str.strip()
    has_offset = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    try:
        if has_offset.all():
            return pd.to_datetime(text, utc=True, format="ISO8601")
        if has_offset.any():
            raise ParseError(f"{where}: some times have a UTC offset and some do not; use one convention")
        naive = pd.to_datetime(text, format="ISO8601")
    except ValueError as exc:
        raise ParseError(f"{where}: unreadable time: {exc}") from None
    counts = naive.value_counts()
    if (counts > 2).any():
        t = counts[counts > 2].index[0]
        raise ParseError(f"{where}: local time {t:%Y-%m-%d %H:%M} appears {counts[t]} times; a local clock repeats "
                         "an hour at most twice (on the autumn DST day). Remove the duplicate rows")
    dupes = naive.duplicated(keep=False)
    if dupes.any():
        ambiguous: str | np.ndarray = "infer"
    else:
        ambiguous = np.ones(len(naive), dtype=bool)  # a single autumn 02:00 is the first (summer time)
    try:
        local = pd.DatetimeIndex(naive).tz_localize(tz, ambiguous=ambiguous, nonexistent="NaT")
    except Exception as exc:  # pytz's AmbiguousTimeError and pandas' ValueError alike
        first = naive[dupes].iloc[0] if dupes.any() else None
        hint = (f"; {first:%Y-%m-%d %H:%M} appears twice but is not the hour the clocks go back"
                if first is not None else "")
        raise ParseError(f"{where}: cannot place local times in {tz}: {exc}{hint}") from None
    return pd.Series(local.tz_convert("UTC"), index=times.index)


def autumn_times_once(times: pd.Series, tz: str) -> list[pd.Timestamp]:
    """Naive local times of ``times`` that the clock of ``tz`` shows twice (the hour the clocks
    go back) but that appear only once in the column; empty for times with an offset."""
    if pd.api.types.is_datetime64_any_dtype(times) and getattr(times.dt, "tz", None) is not None:
        return []
    text = times.astype(str).str.strip()
    if text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).any():
        return []
    naive = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    first = naive.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="NaT")
    second = naive.tz_localize(tz, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="NaT")
    twice_on_clock = (first != second) & first.notna()
    counts = naive.value_counts()
    return sorted({t for t, amb in zip(naive, twice_on_clock, strict=True) if amb and counts[t] == 1})


def to_frames(df: pd.DataFrame, zone: str, tz: str, where: str, source: str, time_column: str | None = None,
              price_column: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """``prices`` rows and (when the file has more columns) ``exogenous`` rows of a whole file,
    and notes on the rows left out (a blank price; a local time the spring DST change skips)."""
    time_col, price_col, exo = pick_columns(df, time_column, price_column, where)
    ts = to_utc(df[time_col], tz, where)
    notes = []
    gap = ts.isna()
    if gap.any():
        shown = ", ".join(str(v) for v in df.loc[gap, time_col].head(3))
        notes.append(f"left out {int(gap.sum())} row(s) at a local time that does not exist in {tz} (the spring "
                     f"DST change; epftoolbox files fill that hour in): {shown}")
    blank = ts.notna() & df[price_col].isna()
    if blank.any():
        shown = ", ".join(str(v) for v in df.loc[blank, time_col].head(3))
        notes.append(f"left out {int(blank.sum())} row(s) with a blank price: {shown}"
                     + (f" (+{int(blank.sum()) - 3} more)" if blank.sum() > 3 else ""))
    keep = ts.notna() & df[price_col].notna()
    data, ts = df[keep], pd.DatetimeIndex(ts[keep])
    if ts.duplicated().any():
        first = ts[ts.duplicated()][0]
        raise ParseError(f"{where}: time {first.isoformat()} appears twice after conversion to UTC")
    order = np.argsort(ts.asi8, kind="stable")
    data, ts = data.iloc[order], ts[order]
    steps = pd.Series(ts).diff().dropna()
    minutes = int(steps.mode().iloc[0] / pd.Timedelta(minutes=1)) if len(steps) else 60
    if minutes not in (15, 60):
        raise ParseError(f"{where}: rows are {minutes} minutes apart; prices are stored in periods of 60 or "
                         "15 minutes, as the day-ahead market trades them. Convert the file to hours or quarter-hours")
    once = autumn_times_once(df[time_col], tz) if minutes == 15 else []
    if once:
        days = sorted({t.date().isoformat() for t in once})
        raise ParseError(
            f"{where}: on {', '.join(days)} the local times {once[0]:%H:%M}..{once[-1]:%H:%M} happen twice in {tz} "
            f"(the clocks go back: 100 quarter-hours that day), but the file has each of them once: it pads every "
            f"day to 96 slots, so which pass a price belongs to is unknown. Nothing was written. Export the file "
            f"with UTC times or UTC offsets (e.g. {once[0]:%Y-%m-%dT%H:%M}+02:00), or list the repeated "
            f"quarter-hours twice, in order")
    prices = frames.prices_frame(zone, ts, data[price_col].to_numpy(), None, minutes, source, tz)
    if not exo:
        return prices, None, notes
    issued = timeutil.publication_times(ts, tz, timeutil.FORECAST_ISSUE_HOUR)
    parts = [frames.exogenous_frame(zone, ts, series_name(c), data[c].to_numpy(), None, issued, source) for c in exo]
    parts = [p[p["value"].notna()] for p in parts]
    return prices, pd.concat(parts, ignore_index=True), notes
