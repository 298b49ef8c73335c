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


@pytest.mark.browser
@needs_chromium
def test_dashboard_shows_the_fallback_and_converts_units(tmp_path):
    """A published weekly naive says so in a visible line; #unit=ore_kwh converts every value at
    its delivery day's rate and names the rate; a zone without a rate stays in EUR and says why."""
    def zone(name, rates):
        return {"zone": name, "timezone": "Europe/Stockholm", "actuals": [], "accuracy": None, "rates": rates,
                "forecast": {"origin": "2024-03-22T09:00:00+00:00", "model": "naive-weekly", "model_version": 0,
                             "title": f"{name} 2024-03-23..24, made 2024-03-22 16:00 CET", "vintage": 1, "vintages": 1,
                             "on_time": False, "fallback_reason": "data_quality: SE3 2024-03-21 flatliner: 10 h",
                             "hours": 2, "daily": [{"date": "2024-03-23", "horizon_day": 1, "hours": 1,
                                                    "p10": None, "p50": 50, "p90": None}],
                             "forecast": [
                                 {"ts": "2024-03-22T22:00:00Z", "ts_local": "2024-03-22T23:00:00+01:00",
                                  "horizon_day": 0, "actual": 40, "p10": None, "p50": None, "p90": None},
                                 {"ts": "2024-03-22T23:00:00Z", "ts_local": "2024-03-23T00:00:00+01:00",
                                  "horizon_day": 1, "actual": None, "p10": None, "p50": 50, "p90": None},
                                 {"ts": "2024-03-23T23:00:00Z", "ts_local": "2024-03-24T00:00:00+01:00",
                                  "horizon_day": 2, "actual": None, "p10": None, "p50": 60, "p90": None}]}}
    rates = {"by_date": {"2024-03-23": {"rate": 11.0, "rate_date": "2024-03-22"},
                         "2024-03-24": {"rate": 12.0, "rate_date": "2024-03-22"}},
             "used": "EUR/SEK 11.0000 (rate of 2024-03-22) for 2024-03-23"}
    data = {"units": {"eur_mwh": {"label": "EUR/MWh", "factor": 1, "needs_rate": False},
                      "ore_kwh": {"label": "öre/kWh", "factor": 0.1, "needs_rate": True}},
            "zones": [zone("SE3", rates), zone("DK1", {"by_date": None, "error": "no EUR/SEK rate is known for DK1"})]}
    page = tmp_path / "dashboard.html"
    page.write_text(render(data))
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#unit=ore_kwh")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    se3 = html[html.index('id="zone-SE3"'):html.index('id="zone-DK1"')]
    assert '<div class="fallback">' in se3 and "data_quality: SE3 2024-03-21 flatliner" in se3
    assert [float(v) for v in re.findall(r'<circle class="pt"[^>]*data-p50="([-0-9.e]+)"', se3)] == [55.0, 72.0]
    assert "EUR/SEK 11.0000 (rate of 2024-03-22)" in se3 and "öre/kWh" in se3
    dk1 = html[html.index('id="zone-DK1"'):]
    assert "no EUR/SEK rate known: shown in EUR/MWh" in dk1
    assert [float(v) for v in re.findall(r'<circle class="pt"[^>]*data-p50="([-0-9.e]+)"', dk1)] == [50.0, 60.0]
