"""PNG charts with matplotlib's Agg backend (no display needed, safe in threads of a server).

The forecast chart is built in two steps: :func:`forecast_chart` turns the forecast table into a
:class:`ForecastChart` (NumPy arrays and strings, with pandas), and :func:`draw_forecast` draws it
(matplotlib and NumPy only). The split lets ``spotcast-serve predict`` hand the drawing to a chart
process (:mod:`spotcast_serve.chartproc`) that never imports pandas."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def _figure(rows: int = 1, height: float = 4.5):  # type: ignore[no-untyped-def]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure() without pyplot: no global state, so concurrent requests cannot mix charts; its
    # own Agg canvas, so savefig draws on it directly (no backend switch, no global backend).
    # Fixed margins instead of constrained layout, which cost half of the drawing time.
    fig = Figure(figsize=(11, height * rows), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.07, right=0.97, top=1 - 0.35 / (height * rows), bottom=0.5 / (height * rows),
                        hspace=0.35)
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    return fig, axes


def _steps(ts: pd.Series, tz: str, *cols: pd.Series, minutes: int = 60) -> tuple:
    """x (naive local time) and y values with the last period repeated one period (``minutes``)
    later, so a ``where="post"`` step line covers the whole last hour or quarter-hour."""
    import pandas as pd

    local = pd.to_datetime(ts, utc=True).dt.tz_convert(tz).dt.tz_localize(None).reset_index(drop=True)
    x = pd.concat([local, local.iloc[-1:] + pd.Timedelta(minutes=minutes)], ignore_index=True)
    ys = [pd.concat([c.reset_index(drop=True), c.iloc[-1:]], ignore_index=True) for c in cols]
    return (x, *ys)


def _array(s: Any) -> np.ndarray:
    return np.asarray(s.to_numpy(dtype="datetime64[ns]") if s.dtype.kind == "M" else s.to_numpy(dtype=float))


@dataclass(frozen=True)
class ForecastChart:
    """What the forecast PNG shows. ``x`` and ``actual_x`` are step edges in naive local time
    (the last period closed), ``p10``/``p90`` are None without a band, ``actual_y`` None
    without published actuals; ``day_starts`` are the local days whose mean median
    (``day_means``) is drawn across the day."""

    x: np.ndarray
    p10: np.ndarray | None
    p50: np.ndarray
    p90: np.ndarray | None
    actual_x: np.ndarray | None
    actual_y: np.ndarray | None
    day_starts: np.ndarray
    day_means: np.ndarray
    tz: str
    minutes: int
    title: str
    subtitle: str = ""
    unit: str = "EUR/MWh"


def forecast_chart(table: pd.DataFrame, daily: pd.DataFrame, tz: str, title: str,
                   subtitle: str = "", unit: str = "EUR/MWh") -> ForecastChart:
    """The chart of a forecast table (``forecast.forecast_table`` rows) and its daily means."""
    fcst = table[table["p50"].notna()]
    minutes = int(table["resolution_minutes"].iloc[0]) if "resolution_minutes" in table and len(table) else 60
    x, p10, p50, p90 = _steps(fcst["ts"], tz, fcst["p10"], fcst["p50"], fcst["p90"], minutes=minutes)
    band = bool(fcst["p10"].notna().any())
    actual_x = actual_y = None
    if "actual" in table.columns and table["actual"].notna().any():
        act = table[table["actual"].notna()]
        xa, ya = _steps(act["ts"], tz, act["actual"], minutes=minutes)
        actual_x, actual_y = _array(xa), _array(ya)
    return ForecastChart(
        x=_array(x), p10=_array(p10) if band else None, p50=_array(p50), p90=_array(p90) if band else None,
        actual_x=actual_x, actual_y=actual_y,
        day_starts=np.array([np.datetime64(str(d), "ns") for d in daily["date"]], dtype="datetime64[ns]"),
        day_means=daily["p50"].to_numpy(dtype=float), tz=tz, minutes=minutes, title=title, subtitle=subtitle,
        unit=unit)


def draw_forecast(chart: ForecastChart):  # type: ignore[no-untyped-def]
    """Hourly median with the p10-p90 band, the actual prices already published (black), and
    each local day's mean median drawn across the day. The daily means' numbers sit in a strip
    above the curves (the y range is stretched to leave room), not on the day's line, where the
    hourly median crossed and hid them."""
    from matplotlib.transforms import blended_transform_factory

    fig, (ax,) = _figure()
    if chart.p10 is not None and chart.p90 is not None:
        ax.fill_between(chart.x, chart.p10, chart.p90, step="post", alpha=0.25, color="tab:blue", label="p10–p90")
    ax.step(chart.x, chart.p50, where="post", color="tab:blue", lw=1.4, label="median (p50)")
    if chart.actual_x is not None:
        ax.step(chart.actual_x, chart.actual_y, where="post", color="black", lw=1.2, label="actual (published)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.14 * (hi - lo))  # the strip for the daily numbers, above every curve
    strip = blended_transform_factory(ax.transData, ax.transAxes)
    day = np.timedelta64(1, "D")
    if len(chart.day_starts):  # one collection for every day's line: each hlines call is a collection to build and draw
        ax.hlines(chart.day_means, chart.day_starts, chart.day_starts + day, colors="tab:red", lw=2.2,
                  label="daily mean")
    for start, p50 in zip(chart.day_starts, chart.day_means, strict=True):
        ax.text(start + day / 2, 0.975, f"{p50:.4g}", transform=strip, ha="center", va="top",
                fontsize=8, color="tab:red", gid="daily-mean-label")
    ax.set_title(chart.title + (f"\n{chart.subtitle}" if chart.subtitle else ""), fontsize=10)
    if chart.subtitle:
        fig.subplots_adjust(top=0.88)  # room for the second title line, which the margin cut off
    ax.set_ylabel(chart.unit)
    ax.set_xlabel(f"delivery time ({chart.tz}), {chart.minutes}-minute periods")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", ncol=4, fontsize=8, framealpha=0.85)
    return fig


def forecast_figure(table: pd.DataFrame, daily: pd.DataFrame, tz: str, title: str,
                    subtitle: str = "", unit: str = "EUR/MWh"):  # type: ignore[no-untyped-def]
    """The forecast chart as a matplotlib figure (:func:`forecast_chart`, :func:`draw_forecast`)."""
    return draw_forecast(forecast_chart(table, daily, tz, title, subtitle, unit))


def save_forecast_png(chart: ForecastChart, path: Path) -> Path:
    """Draw ``chart`` into a PNG file at ``path``: written beside it and renamed, so a drawing
    stopped half-way (Ctrl-C, a killed process) never leaves a cut-off file that later runs
    would keep as the published vintage's chart."""
    import os
    import tempfile

    fig = draw_forecast(chart)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", metadata={"Software": None})
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def forecast_png(table: pd.DataFrame, daily: pd.DataFrame, tz: str, path: Path, title: str,
                 subtitle: str = "", unit: str = "EUR/MWh") -> Path:
    """The forecast chart as a PNG file (see :func:`draw_forecast`)."""
    return save_forecast_png(forecast_chart(table, daily, tz, title, subtitle, unit), path)


def accuracy_png(pairs: pd.DataFrame, by_horizon: pd.DataFrame, by_origin: pd.DataFrame,
                 path: Path, title: str, tz: str) -> Path:
    """Predicted vs actual over time, MAE per horizon day (with the naive's), MAE per origin day."""
    import pandas as pd

    fig, (ax1, ax2, ax3) = _figure(rows=3, height=3.4)
    x, p10, p50, p90, actual = _steps(pairs["ts"], tz, pairs["p10"], pairs["p50"], pairs["p90"], pairs["actual"])
    ax1.fill_between(x, p10, p90, step="post", alpha=0.2, color="tab:blue", label="p10–p90")
    ax1.step(x, p50, where="post", color="tab:blue", lw=1.1, label="forecast p50 (shortest horizon)")
    ax1.step(x, actual, where="post", color="black", lw=1.1, label="actual")
    ax1.set_title(title)
    ax1.set_ylabel("EUR/MWh")
    ax1.legend(loc="upper left", fontsize=8)
    ax1.grid(alpha=0.3)

    x = by_horizon["horizon_day"].to_numpy()
    ax2.bar(x - 0.2, by_horizon["mae"], width=0.4, label="model MAE", color="tab:blue")
    ax2.bar(x + 0.2, by_horizon["naive_mae"].fillna(0), width=0.4, label="weekly naive MAE", color="tab:gray")
    ax2.set_xlabel("horizon day (D+n)")
    ax2.set_ylabel("MAE, EUR/MWh")
    ax2.set_xticks(x)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, axis="y")

    od = pd.to_datetime(by_origin["origin_date"])
    ax3.plot(od, by_origin["mae"], marker="o", ms=3, color="tab:blue", label="model MAE")
    ax3.plot(od, by_origin["naive_mae"], marker="o", ms=3, color="tab:gray", label="weekly naive MAE")
    if len(od) < 3:  # a lone point would get a multi-year axis
        ax3.set_xlim(od.min() - pd.Timedelta(days=3), od.max() + pd.Timedelta(days=3))
    ax3.set_xlabel("origin day")
    ax3.set_ylabel("MAE, EUR/MWh")
    ax3.legend(fontsize=8)
    ax3.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    return path
