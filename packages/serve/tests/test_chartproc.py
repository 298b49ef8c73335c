"""`spotcast-serve predict` draws its PNGs in a second process (issue 17: the command in <= 2.5 s):
the same bytes as drawn in-process, none lost when the child fails, the error shown when a
chart cannot be drawn at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from spotcast_serve import chartproc
from spotcast_serve.charts import forecast_chart, save_forecast_png
from spotcast_serve.forecast import daily_means

PNG = b"\x89PNG\r\n\x1a\n"


def _chart(title: str = "SE3 2024-09-22..28, made 2024-09-20 16:00 CEST"):
    ts = pd.date_range("2024-09-21T22:00Z", periods=168, freq="h")
    p50 = 60 + 30 * np.sin(np.arange(168) / 24 * 2 * np.pi)
    table = pd.DataFrame({"origin": pd.Timestamp("2024-09-20T14:00Z"), "ts": ts, "p10": p50 - 10, "p50": p50, "p90": p50 + 12,
                          "actual": np.r_[p50[:24] + 3, [np.nan] * 144]})
    return forecast_chart(table, daily_means(table, "Europe/Stockholm"), "Europe/Stockholm", title, subtitle="m v1")


def test_the_chart_process_draws_the_same_png_as_this_process(tmp_path):
    chart = _chart()
    here = save_forecast_png(chart, tmp_path / "here.png").read_bytes()
    with chartproc.offloaded() as proc:
        chartproc.render(chart, tmp_path / "there.png")
    assert proc is not None and proc.problem is None
    assert here.startswith(PNG) and (tmp_path / "there.png").read_bytes() == here


def test_the_command_process_never_imports_matplotlib_for_its_pngs(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r})
        from test_chartproc import _chart
        from spotcast_serve import chartproc
        with chartproc.offloaded() as proc:
            for i in range(3):
                chartproc.render(_chart(f"chart {{i}}"), Path({str(tmp_path)!r}) / f"c{{i}}.png")
        print(proc.problem, "matplotlib" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False"]  # drawn by the child; this process never loaded matplotlib
    assert all((tmp_path / f"c{i}.png").read_bytes().startswith(PNG) for i in range(3))


def test_charts_the_child_did_not_confirm_are_drawn_here(tmp_path):
    with chartproc.offloaded() as proc:
        assert proc is not None
        chartproc.render(_chart(), tmp_path / "a.png")
        proc._proc.kill()  # the child dies (out of memory, killed by a user, ...)
        proc._proc.wait()
        chartproc.render(_chart(), tmp_path / "b.png")
    assert "chart process" in proc.problem
    assert (tmp_path / "a.png").read_bytes().startswith(PNG) and (tmp_path / "b.png").read_bytes().startswith(PNG)


def test_a_chart_that_cannot_be_drawn_fails_the_block_with_the_drawing_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outputs folder should be")
    with pytest.raises(OSError), chartproc.offloaded() as proc:
        chartproc.render(_chart(), blocker / "x.png")
    assert "failed on" in proc.problem and not (blocker / "x.png").exists()


def test_outside_the_block_charts_are_drawn_in_process(tmp_path):
    chartproc.render(_chart(), tmp_path / "direct.png")
    assert (tmp_path / "direct.png").read_bytes().startswith(PNG)


def test_an_error_in_the_block_keeps_the_drawn_charts_and_is_the_error_shown(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="the command's own error"), chartproc.offloaded():
        chartproc.render(_chart(), tmp_path / "done.png")
        chartproc.render(_chart(), blocker / "cannot.png")  # cannot be drawn: a note, not the error
        raise ValueError("the command's own error")
    assert (tmp_path / "done.png").read_bytes().startswith(PNG)


def test_a_chart_is_never_left_half_written(tmp_path):
    """The PNG appears under its name only once complete (written beside it, then renamed)."""
    path = save_forecast_png(_chart(), tmp_path / "c.png")
    assert path.read_bytes().startswith(PNG) and [p.name for p in tmp_path.iterdir()] == ["c.png"]
