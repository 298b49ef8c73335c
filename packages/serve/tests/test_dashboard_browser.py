"""The dashboard in a real headless Chromium (Debian's package): loads, draws, screenshots."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spotcast_serve.dashboard import render

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not found at /usr/bin/chromium: `apt-get install -y chromium`")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@needs_chromium
def test_dashboard_renders_charts_in_chromium(server, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", server + "/")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # Script ran: the SE3 section exists with one median point per forecast hour and the
    # actual prices; SE4 has features but no forecast, so no section.
    assert 'id="zone-SE3"' in html and 'id="zone-SE4"' not in html
    points = re.findall(r'<circle class="pt"[^>]*data-p50="([-0-9.e]+)"', html)
    assert len(points) == 168
    assert len(re.findall(r'<circle class="apt"', html)) > 24
    assert html.count('class="daymean"') == 7
    assert re.search(r'<b class="mae">\d+\.\d\d</b>', html)  # accuracy so far
    # Self-contained: no external script, stylesheet, image or font.
    assert not re.search(r'<(script|img|iframe)[^>]+src=|<link[^>]+href=|url\(', html)

    shot = tmp_path / "dashboard.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1400", server + "/")
    assert r.returncode == 0, r.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.browser
@needs_chromium
def test_dashboard_works_offline_as_a_saved_file(tmp_path):
    """The page carries its data and code: opened from disk, with no server, it still draws."""
    data = {"zones": [{"zone": "SE3", "timezone": "Europe/Stockholm", "actuals": [], "accuracy": None,
                       "forecast": {"origin": "2024-03-22T09:00:00+00:00", "model": "m", "model_version": 1,
                                    "hours": 2, "daily": [{"date": "2024-03-23", "horizon_day": 1, "hours": 2,
                                                           "p10": 1, "p50": 2, "p90": 3}],
                                    "forecast": [
                                        {"ts": "2024-03-22T23:00:00Z", "ts_local": "2024-03-23T00:00:00+01:00",
                                         "horizon_day": 1, "p10": 1, "p50": 2, "p90": 3},
                                        {"ts": "2024-03-23T00:00:00Z", "ts_local": "2024-03-23T01:00:00+01:00",
                                         "horizon_day": 1, "p10": 1.5, "p50": 2.5, "p90": 3.5}]}}]}
    page = tmp_path / "dashboard.html"
    page.write_text(render(data))
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r'<circle class="pt"', dom.stdout)) == 2
