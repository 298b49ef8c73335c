"""The forecast PNG (issue 17, polish): the daily-mean numbers were drawn on the day's line at
noon, where the hourly median crosses it, so the curve hid them."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from spotcast_serve.charts import forecast_figure, forecast_png
from spotcast_serve.forecast import daily_means


def _forecast(days: int = 7) -> pd.DataFrame:
    ts = pd.date_range("2024-09-21T22:00Z", periods=24 * days, freq="h")
    hour = ts.tz_convert("Europe/Stockholm").hour.to_numpy()
    p50 = 60 + 35 * np.sin((hour - 6) / 24 * 2 * np.pi) + np.arange(len(ts)) * 0.05
    return pd.DataFrame({"origin": pd.Timestamp("2024-09-20T14:00Z"), "ts": ts, "p10": p50 - 20, "p50": p50,
                         "p90": p50 + 25})


def _segments_hit(box, xy: np.ndarray) -> bool:
    """Whether a step line through ``xy`` (display coordinates) passes through ``box``."""
    for (x0, y0), (x1, _) in itertools.pairwise(xy):  # horizontal part of each step
        if min(x0, x1) <= box.x1 and max(x0, x1) >= box.x0 and box.y0 <= y0 <= box.y1:
            return True
    return False


def test_daily_mean_labels_do_not_sit_on_the_curves(tmp_path) -> None:
    table = _forecast()
    daily = daily_means(table, "Europe/Stockholm")
    fig = forecast_figure(table, daily, "Europe/Stockholm", "SE3 2024-09-22..28")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_gid() == "daily-mean-label"]
    assert len(labels) == 7 and [t.get_text() for t in labels] == [f"{v:.4g}" for v in daily["p50"]]
    curves = [line for line in ax.lines if line.get_label() in ("median (p50)",)]
    assert curves
    axes_box = ax.get_window_extent(renderer)
    for t in labels:
        box = t.get_window_extent(renderer)
        assert axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1  # inside the plot
        for line in curves:
            xy = line.get_transform().transform(np.column_stack(line.get_data(orig=False)).astype(float))
            assert not _segments_hit(box, xy), t.get_text()
        top_of_band = ax.transData.transform((0, float(table["p90"].max())))[1]
        assert box.y0 > top_of_band  # above the p90 band as well
    assert forecast_png(table, daily, "Europe/Stockholm", tmp_path / "f.png", "t").stat().st_size > 10_000
