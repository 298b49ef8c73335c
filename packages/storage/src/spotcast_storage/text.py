"""Words in output people read, the same in every stage: counts with the right plural, metrics
and times in one format."""

from __future__ import annotations

import datetime as dt
from typing import Any


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 commit``, ``3 commits``, ``0 commits``; ``many`` for an irregular plural
    (``plural(2, "batch", "batches")``)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def format_metrics(metrics: dict[str, object] | None, digits: int = 2) -> str:
    """A model's metrics for a table: ``mae 11.78, rmae 0.83`` (numbers only, in the stored order),
    instead of a raw dict with 16 digits. Programs get the exact values from ``--format json``."""
    parts = []
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        parts.append(f"{key} {value:,.{digits}f}" if isinstance(value, float) else f"{key} {value:,}")
    return ", ".join(parts)


def iso(ts: Any) -> str | None:
    """A time for people, one format everywhere: ISO 8601 to the second with the UTC offset,
    ``2026-12-02T19:19:07+00:00`` (no microseconds, no ``Z``/``+0000`` variants). ``None`` stays
    ``None``; a string is parsed first (commit times come as text from some backends)."""
    if ts is None:
        return None
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if isinstance(ts, dt.datetime):
        return ts.isoformat(timespec="seconds")
    return str(ts)


def iso_frame(df: Any) -> Any:
    """``df`` with every time column as text in :func:`iso`'s format, so CSV and JSON output carry
    the same ``2026-12-02T19:19:07+00:00`` as tables and the API (pandas writes ``+0000`` with
    ``%z`` and ``Z`` in JSON). Columns without a time zone get no offset. A copy; ``df`` stays."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            text = s.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
            out[col] = text.str[:-2] + ":" + text.str[-2:]
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            out[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out
