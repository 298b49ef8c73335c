"""The dashboard in a real headless Chromium (Debian's package): loads, draws, screenshots."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
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


def _above_4(fd: int) -> int:
    """``fd`` moved to a number above 4, so that putting the pipe ends on 3 and 4 cannot close one."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class DevTools:
    """A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
    NUL-separated JSON on file descriptors 3 and 4), so a test can click and read the page the way
    a user's browser does, with no extra package."""

    def __init__(self, tmp_path: Path, width: int = 1280, height: int = 900) -> None:
        to_child, self._w = (_above_4(fd) for fd in os.pipe())
        self._r, from_child = (_above_4(fd) for fd in os.pipe())
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'chromium-cdp-profile'}", f"--window-size={width},{height}",
               "--remote-debugging-pipe", "about:blank"]
        # A small Python trampoline puts the pipe ends on the descriptors 3 and 4 Chromium uses.
        trampoline = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                      "os.close(int(sys.argv[1])); os.close(int(sys.argv[2])); os.execv(sys.argv[3], sys.argv[3:])")
        self.proc = subprocess.Popen([sys.executable, "-c", trampoline, str(to_child), str(from_child), *cmd],
                                     pass_fds=(to_child, from_child),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buf, self._id, self.session = b"", 0, None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buf:
                assert time.monotonic() < deadline, f"no answer to {method}"
                chunk = os.read(self._r, 1 << 20)
                assert chunk, f"Chromium closed the pipe during {method}"
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                assert "error" not in answer, (method, answer["error"])
                return answer["result"]

    def js(self, expression: str) -> Any:
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.js(expression)):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.1)
        return value

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('spotcast-data')")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) in the middle of the element."""
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView(); "
                      "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # already gone
            self.call("Browser.close", timeout=10)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


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
    reason = "no published forecast of SE3 has an actual price yet: wait, or replay with --now"
    accuracy = {"overall": None, "reason": reason, "unit": "EUR/MWh", "weeks": 8, "by_horizon": [], "by_week": [],
                "pairs": []}
    data = {"zones": [{"zone": "SE3", "timezone": "Europe/Stockholm", "actuals": [], "accuracy": accuracy,
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
    # Nothing scored yet: the history says why (as /accuracy does) instead of an empty chart.
    history = dom.stdout[dom.stdout.index('id="history"'):]
    assert f'<div class="empty reason">{reason}</div>' in history and "svg" not in history.split("</section>")[0]


@pytest.mark.browser
@needs_chromium
def test_a_quarter_hour_zone_is_drawn_in_15_minute_steps(tmp_path):
    """Issue 15: a zone that clears in 15 minutes is drawn from its 15-minute forecast (one point
    per quarter), and #res=60min draws the hourly forecast instead; an hourly zone stays hourly."""
    hourly = [{"ts": f"2025-10-07T{h:02d}:00:00+00:00", "ts_local": f"2025-10-07T{h + 2:02d}:00:00+02:00",
               "resolution_minutes": 60, "horizon_day": 1, "p10": 40 + h, "p50": 50 + h, "p90": 60 + h}
              for h in range(2)]
    quarter = [{"ts": (pd.Timestamp("2025-10-07T00:00Z") + pd.Timedelta(minutes=15 * k)).isoformat(),
                "ts_local": (pd.Timestamp("2025-10-07T00:00Z") + pd.Timedelta(minutes=15 * k))
                .tz_convert("Europe/Stockholm").isoformat(), "resolution_minutes": 15, "horizon_day": 1,
                "p10": 40 + k / 4, "p50": 50 + k / 4, "p90": 60 + k / 4} for k in range(8)]

    def zone(name, q):
        return {"zone": name, "timezone": "Europe/Stockholm", "actuals": [], "accuracy": None,
                "forecast_15min": q, "actuals_15min": [] if q else None,
                "forecast": {"origin": "2025-10-06T08:00:00+00:00", "model": "m", "model_version": 1, "hours": 2,
                             "title": name, "vintage": 1, "vintages": 1, "on_time": True,
                             "daily": [{"date": "2025-10-07", "horizon_day": 1, "hours": 2, "p10": 40, "p50": 50,
                                        "p90": 60}], "forecast": hourly}}
    page = tmp_path / "dashboard.html"
    page.write_text(render({"zones": [zone("SE4", quarter), zone("FI", None)]}))
    for address, se4_points in (("", 8), ("#res=60min", 2)):
        dom = _chromium(tmp_path, "--dump-dom", page.as_uri() + address)
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
        se4, fi = html[html.index('id="zone-SE4"'):html.index('id="zone-FI"')], html[html.index('id="zone-FI"'):]
        assert len(re.findall(r'<circle class="pt"', se4)) == se4_points
        assert f'data-resolution="{15 if se4_points == 8 else 60}"' in se4
        assert len(re.findall(r'<circle class="pt"', fi)) == 2 and 'data-resolution="60"' in fi


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


_HISTORY_STATE = """(() => {
  const h = document.getElementById("history"), svg = h.querySelector("svg.history"), wk = h.querySelector("svg.weeks");
  const fc = document.querySelector("#zone-SE3 svg.chart");
  return {
    zone: h.querySelector(".hzone").textContent, hash: location.hash,
    on: [...h.querySelectorAll("#history-zones button.on")].map(b => b.dataset.zone),
    svgZone: svg.dataset.zone, hours: Number(svg.dataset.hours),
    p50: [...svg.querySelectorAll("circle.hpt")].map(c => Number(c.dataset.p50)),
    actual: [...svg.querySelectorAll("circle.hpt")].map(c => Number(c.dataset.actual)),
    bands: svg.querySelectorAll("polygon.band").length, lines: svg.querySelectorAll("polyline.actual").length,
    ticks: [...svg.querySelectorAll("text.ytick")].map(t => t.textContent),
    unit: svg.querySelector("text.unit").textContent,
    weekPoints: wk.querySelectorAll("circle.wpt").length, weekLines: wk.querySelectorAll("polyline.wline").length,
    weekUnit: wk.querySelector("text.unit").textContent,
    weekRows: [...h.querySelectorAll("table.weeks tbody tr")].map(r => r.firstChild.textContent),
    forecastTicks: [...fc.querySelectorAll("text.ytick")].map(t => t.textContent),
    forecastUnit: fc.querySelector("text.unit").textContent,
  };
})()"""


def _round_ticks(labels: list[str]) -> bool:
    """Evenly spaced at 1, 2, 2.5 or 5 times a power of ten, as people count."""
    v = [float(t.replace("\u2212", "-")) for t in labels]
    steps = {round(b - a, 9) for a, b in itertools.pairwise(v)}
    if len(v) < 3 or len(steps) != 1:
        return False
    step = steps.pop()
    mag = 10 ** math.floor(math.log10(step))
    return round(step / mag, 6) in (1, 2, 2.5, 5) and all(abs(x / step - round(x / step)) < 1e-6 for x in v)


@pytest.mark.browser
@needs_chromium
def test_accuracy_history_renders_and_follows_a_zone_click(history_server, project, tmp_path):
    """Issue 17: the dashboard had no chart of past forecasts against what happened. On a store
    with four weeks of scored forecasts it draws, for the selected zone, each hour's p50 and
    p10-p90 band against the actual line and MAE by week and horizon; a click on another zone
    redraws both with that zone's numbers. The axes have round ticks and name the unit."""
    from spotcast_serve import service

    expect = {z: service.accuracy(project, z, 30, 8) for z in ("SE3", "SE4")}
    b = DevTools(tmp_path, 1280, 1000)
    try:
        b.open(history_server + "/")
        b.wait_for("!!document.querySelector('#history svg.history circle.hpt')")
        first = b.js(_HISTORY_STATE)
        b.click("#history-zones button[data-zone=SE4]")
        b.wait_for("document.querySelector('#history .hzone').textContent === 'SE4'")
        second = b.js(_HISTORY_STATE)
        shot = b.screenshot(tmp_path / "dashboard-accuracy-history.png")
    finally:
        b.close()
    print(f"screenshot: {shot}")
    for state, zone in ((first, "SE3"), (second, "SE4")):
        pairs = expect[zone].pairs
        assert state["zone"] == state["svgZone"] == zone and state["on"] == [zone]
        assert state["hours"] == len(pairs) == 26 * 24 - 1  # 2024-03-09 .. 04-03, the 23-hour 03-31
        assert state["p50"] == pairs["p50"].round(2).tolist() and state["actual"] == pairs["actual"].round(2).tolist()
        assert state["bands"] >= 1 and state["lines"] >= 1
        assert state["unit"] == "EUR/MWh" and state["weekUnit"] == "MAE, EUR/MWh" and _round_ticks(state["ticks"])
        assert state["weekPoints"] == len(expect[zone].by_week) == 4 * 7 and state["weekLines"] == 7
        assert state["weekRows"] == ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]
        assert _round_ticks(state["forecastTicks"]) and state["forecastUnit"] == "EUR/MWh"
    assert first["p50"] != second["p50"] and second["hash"] == "#unit=eur_mwh&res=15min&zone=SE4"
    assert shot.stat().st_size > 20_000
