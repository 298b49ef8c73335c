"""ENTSO-E Transparency Platform XML: ``Publication_MarketDocument`` (day-ahead prices, A44)
and ``GL_MarketDocument`` (load forecast A65, wind and solar forecast A69), each a list of
``TimeSeries`` with ``Period``s (``timeInterval`` start/end in UTC, ``resolution`` PT60M or
PT15M, ``Point``s by position). Curve type A03 leaves out points equal to the one before;
they are filled forward. ``Acknowledgement_MarketDocument`` means "no data" (or an error)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from spotcast_ingest.errors import ParseError

PSR_TYPES = {"B16": "solar_forecast", "B18": "wind_forecast", "B19": "wind_forecast"}
"""Production types of A69 forecasts; offshore (B18) and onshore (B19) wind are summed."""
_RESOLUTION = re.compile(r"^PT(\d+)M$")


class NoData(Exception):
    """The API acknowledged the request but has no matching data (reason text attached)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: ET.Element, path: list[str], where: str) -> str:
    cur = el
    for name in path:
        found = _children(cur, name)
        if not found:
            raise ParseError(f"{where}: element {'/'.join(path)} missing")
        cur = found[0]
    return (cur.text or "").strip()


def parse_series(body: bytes, value_tag: str, where: str) -> list[tuple[str | None, pd.Series]]:
    """Each TimeSeries as (psrType or None, values indexed by UTC period start)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ParseError(f"{where}: the answer is not valid XML ({exc})") from None
    if _local(root.tag) == "Acknowledgement_MarketDocument":
        reasons = [_text(r, ["text"], where) for r in _children(root, "Reason") if _children(r, "text")]
        raise NoData("; ".join(reasons) or "acknowledgement without reason")
    out = []
    for ts_el in _children(root, "TimeSeries"):
        psr = None
        for m in _children(ts_el, "MktPSRType"):
            psr = _text(m, ["psrType"], where)
        parts = []
        for period in _children(ts_el, "Period"):
            start = pd.Timestamp(_text(period, ["timeInterval", "start"], where))
            end = pd.Timestamp(_text(period, ["timeInterval", "end"], where))
            m = _RESOLUTION.match(_text(period, ["resolution"], where))
            if not m:
                raise ParseError(f"{where}: unsupported resolution {_text(period, ['resolution'], where)!r}")
            step = pd.Timedelta(minutes=int(m.group(1)))
            n = int((end - start) / step)
            values: dict[int, float] = {}
            for point in _children(period, "Point"):
                try:
                    values[int(_text(point, ["position"], where))] = float(_text(point, [value_tag], where))
                except ValueError as exc:
                    raise ParseError(f"{where}: unreadable point: {exc}") from None
            if not values or min(values) != 1 or max(values) > n:
                raise ParseError(f"{where}: period {start.isoformat()} has points outside 1..{n}")
            series = pd.Series(values).reindex(range(1, n + 1)).ffill()  # A03: repeated values left out
            idx = pd.date_range(start, periods=n, freq=step).tz_convert("UTC")
            parts.append(pd.Series(series.to_numpy(), index=idx))
        if parts:
            s = pd.concat(parts).sort_index()
            out.append((psr, s[~s.index.duplicated(keep="last")]))
    if not out:
        raise ParseError(f"{where}: no TimeSeries in the answer (root element {_local(root.tag)})")
    return out
