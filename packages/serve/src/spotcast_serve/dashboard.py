"""The dashboard: one self-contained HTML page (inline CSS, JS and SVG; no CDN, works offline).

The server embeds the data (the JSON of ``/api/dashboard``) in the page, so the page also
works when saved to a file; the script draws one SVG chart per zone and refreshes the data
from ``/api/dashboard`` every five minutes when served.
"""

from __future__ import annotations

import json
from typing import Any

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spotcast — day-ahead price forecasts</title>
<style>
  :root { --band: #9ec5fe; --p50: #0d6efd; --act: #212529; --muted: #6c757d; }
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #212529; background: #f8f9fa; }
  header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #dee2e6; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: var(--muted); font-size: 12px; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section.zone { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 12px 16px; }
  section.zone h2 { font-size: 16px; margin: 0 0 4px; }
  .sub { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
  svg.chart { width: 100%; height: 300px; display: block; }
  svg.chart .band { fill: var(--band); opacity: .55; }
  svg.chart .p50 { fill: none; stroke: var(--p50); stroke-width: 1.6; }
  svg.chart .actual { fill: none; stroke: var(--act); stroke-width: 1.3; }
  svg.chart .pt { fill: var(--p50); }
  svg.chart .apt { fill: var(--act); }
  svg.chart .daymean { stroke: #dc3545; stroke-width: 2.2; }
  svg.chart .axis { stroke: #adb5bd; stroke-width: 1; }
  svg.chart .grid { stroke: #e9ecef; stroke-width: 1; }
  svg.chart text { font-size: 11px; fill: var(--muted); }
  svg.chart .now { stroke: #fd7e14; stroke-dasharray: 4 3; }
  .legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
  .legend i { display: inline-block; width: 14px; height: 4px; margin-right: 4px; vertical-align: middle; }
  table { border-collapse: collapse; font-size: 12px; margin-top: 8px; }
  th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #f1f3f5; }
  th:first-child, td:first-child { text-align: left; }
  .cols { display: flex; gap: 24px; flex-wrap: wrap; }
  .empty { color: var(--muted); padding: 24px; }
  .fallback { background: #fff3cd; border: 1px solid #ffe69c; color: #664d03; padding: 6px 10px; border-radius: 4px; margin: 4px 0 8px; font-size: 13px; }
  .rates { color: var(--muted); font-size: 12px; }
  #units button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #adb5bd; background: #fff; border-radius: 3px; cursor: pointer; }
  #units button.on { background: var(--p50); color: #fff; border-color: var(--p50); }
  #tip { position: fixed; pointer-events: none; background: rgba(33,37,41,.9); color: #fff; padding: 4px 8px; border-radius: 4px; font-size: 12px; display: none; }
</style>
</head>
<body>
<header>
  <h1>spotcast</h1>
  <span class="meta">day-ahead price forecasts · p10–p90 band, median, actual prices · times in each zone's local time</span>
  <span id="units" class="meta">unit: <button data-unit="eur_mwh">EUR/MWh</button> <button data-unit="sek_kwh">SEK/kWh</button> <button data-unit="ore_kwh">öre/kWh</button></span>
  <span class="meta" id="generated"></span>
</header>
<main id="zones"><div class="empty">Loading…</div></main>
<div id="tip"></div>
<script id="spotcast-data" type="application/json">__DATA__</script>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
const esc = s => String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(d);
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
function localLabel(iso, tz, opts) {
  try { return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: tz }, opts)).format(new Date(iso)); }
  catch (e) { return iso.slice(0, 16).replace("T", " "); }
}
// The unit is part of the address (#unit=sek_kwh), so a view in öre can be bookmarked or shared.
let UNIT = (location.hash.match(/unit=([a-z_]+)/) || [])[1] || "eur_mwh", DATA = null;
function localDate(iso, tz) {
  try { return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso)); }
  catch (e) { return iso.slice(0, 10); }
}
// EUR/MWh -> the chosen unit at the source's EUR/SEK rate of the value's local delivery day.
function converter(z) {
  const u = (DATA.units || {})[UNIT] || { factor: 1, needs_rate: false, label: "EUR/MWh" };
  if (!u.needs_rate) return { label: u.label, ok: true, conv: (v) => (v === null || v === undefined) ? v : v * u.factor, convDay: (v) => v };
  const by = z.rates && z.rates.by_date;
  if (!by) return { label: "EUR/MWh", ok: false, conv: v => v, convDay: v => v };
  const rate = d => (by[d] ? by[d].rate : null);
  const f = (v, d) => (v === null || v === undefined || rate(d) === null) ? null : v * u.factor * rate(d);
  return { label: u.label, ok: true, conv: (v, iso) => f(v, localDate(iso, z.timezone)), convDay: (v, d) => f(v, d) };
}
function drawChart(z) {
  const W = 1000, H = 300, L = 48, R = 12, T = 12, B = 28;
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "data-zone": z.zone });
  const cv = converter(z);
  const f = z.forecast.forecast.filter(r => r.p50 !== null).map(r => Object.assign({}, r, { p10: cv.conv(r.p10, r.ts), p50: cv.conv(r.p50, r.ts), p90: cv.conv(r.p90, r.ts) }));
  const a = (z.actuals || []).map(r => ({ ts: r.ts, price: cv.conv(r.price, r.ts) }));
  const times = f.map(r => Date.parse(r.ts)).concat(a.map(r => Date.parse(r.ts)));
  const vals = f.flatMap(r => [r.p10, r.p90, r.p50]).concat(a.map(r => r.price)).filter(v => v !== null);
  if (!times.length || !vals.length) return svg;
  const t0 = Math.min(...times), t1 = Math.max(...times) + 3600e3;
  let lo = Math.min(...vals), hi = Math.max(...vals);
  const pad = (hi - lo) * 0.08 || 1; lo -= pad; hi += pad;
  const x = t => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = v => T + (hi - v) / (hi - lo) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = lo + (hi - lo) * i / 4;
    el("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }, svg);
    el("text", { x: 4, y: y(v) + 4 }, svg).textContent = fmt(v, 0);
  }
  const day = 86400e3;
  for (let t = Math.ceil(t0 / day) * day; t < t1; t += day) {
    el("line", { class: "grid", x1: x(t), x2: x(t), y1: T, y2: H - B }, svg);
    el("text", { x: x(t) + 3, y: H - 8 }, svg).textContent = localLabel(new Date(t).toISOString(), z.timezone, { day: "2-digit", month: "short" });
  }
  el("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }, svg);
  const step = 3600e3;
  const ft = f.map(r => Date.parse(r.ts));
  if (f.some(r => r.p10 !== null && r.p90 !== null)) {
    const upper = f.map((r, i) => `${x(ft[i])},${y(r.p90)} ${x(ft[i] + step)},${y(r.p90)}`);
    const lower = f.map((r, i) => `${x(ft[i] + step)},${y(r.p10)} ${x(ft[i])},${y(r.p10)}`).reverse();
    el("polygon", { class: "band", points: upper.concat(lower).join(" ") }, svg);
  }
  el("polyline", { class: "p50", points: f.map((r, i) => `${x(ft[i])},${y(r.p50)} ${x(ft[i] + step)},${y(r.p50)}`).join(" ") }, svg);
  if (a.length) {
    const at = a.map(r => Date.parse(r.ts));
    el("polyline", { class: "actual", points: a.map((r, i) => `${x(at[i])},${y(r.price)} ${x(at[i] + step)},${y(r.price)}`).join(" ") }, svg);
    a.forEach((r, i) => {
      const c = el("circle", { class: "apt", cx: x(at[i] + step / 2), cy: y(r.price), r: 1.6, "data-ts": r.ts, "data-value": r.price }, svg);
      c.addEventListener("mousemove", ev => tip(ev, `${localLabel(r.ts, z.timezone, { dateStyle: "medium", timeStyle: "short" })}<br>actual ${fmt(r.price)}`));
      c.addEventListener("mouseleave", hideTip);
    });
  }
  f.forEach((r, i) => {
    const c = el("circle", { class: "pt", cx: x(ft[i] + step / 2), cy: y(r.p50), r: 2, "data-ts": r.ts, "data-p50": r.p50 }, svg);
    c.addEventListener("mousemove", ev => tip(ev, `${localLabel(r.ts, z.timezone, { dateStyle: "medium", timeStyle: "short" })}<br>p50 ${fmt(r.p50)} (p10 ${fmt(r.p10)} – p90 ${fmt(r.p90)})`));
    c.addEventListener("mouseleave", hideTip);
  });
  for (const d of z.forecast.daily) {
    const rows = f.filter(r => r.ts_local.slice(0, 10) === d.date);
    if (!rows.length) continue;
    const s = Date.parse(rows[0].ts), e = Date.parse(rows[rows.length - 1].ts) + step;
    const m = cv.convDay(d.p50, d.date);
    el("line", { class: "daymean", x1: x(s), x2: x(e), y1: y(m), y2: y(m), "data-date": d.date }, svg);
  }
  const o = Date.parse(z.forecast.origin);
  if (o >= t0 && o <= t1) el("line", { class: "now", x1: x(o), x2: x(o), y1: T, y2: H - B }, svg);
  return svg;
}
const tipEl = document.getElementById("tip");
function tip(ev, text) { tipEl.innerHTML = text; tipEl.style.display = "block"; tipEl.style.left = (ev.clientX + 12) + "px"; tipEl.style.top = (ev.clientY + 12) + "px"; }
function hideTip() { tipEl.style.display = "none"; }
function table(head, rows) {
  const t = document.createElement("table");
  t.innerHTML = "<thead><tr>" + head.map(h => `<th>${h}</th>`).join("") + "</tr></thead>";
  const tb = document.createElement("tbody");
  for (const r of rows) { const tr = document.createElement("tr"); tr.innerHTML = r.map(c => `<td>${c}</td>`).join(""); tb.appendChild(tr); }
  t.appendChild(tb);
  return t;
}
function render(data) {
  DATA = data;
  if (!(data.units || {})[UNIT]) UNIT = "eur_mwh";
  for (const b of document.querySelectorAll("#units button")) b.classList.toggle("on", b.dataset.unit === UNIT);
  const main = document.getElementById("zones");
  main.innerHTML = "";
  document.getElementById("generated").textContent = data.generated_at ? "updated " + data.generated_at.slice(0, 19).replace("T", " ") + " UTC" : "";
  if (!data.zones || !data.zones.length) {
    main.innerHTML = `<div class="empty">No forecasts in the store yet. Run <code>spotcast-serve predict --zone SE3</code>.${data.error ? "<br>" + esc(data.error) : ""}</div>`;
    return;
  }
  for (const z of data.zones) {
    const s = document.createElement("section");
    s.className = "zone"; s.id = "zone-" + z.zone;
    const f = z.forecast;
    const cv = converter(z);
    const by = f.fallback_reason ? "weekly naive" : `model ${esc(f.model)} v${esc(f.model_version)}`;
    const gate = f.on_time ? "made before the gate closure" : "made after the gate closure";
    s.innerHTML = `<h2>${esc(f.title)}</h2><div class="sub">${by} · vintage ${f.vintage} of ${f.vintages}, published (${gate}) · origin ${localLabel(f.origin, z.timezone, { dateStyle: "medium", timeStyle: "short" })} (${esc(z.timezone)}) · ${f.hours} hours · ${esc(cv.label)}</div>` +
      (f.fallback_reason ? `<div class="fallback">The weekly naive forecast is published instead of a model's: ${esc(f.fallback_reason)}</div>` : "") +
      (UNIT !== "eur_mwh" ? `<div class="rates">${cv.ok ? esc(z.rates.used) : "no EUR/SEK rate known: shown in EUR/MWh. " + esc(z.rates.error || "")}</div>` : "") +
      `<div class="legend"><span><i style="background:var(--band)"></i>p10–p90</span><span><i style="background:var(--p50)"></i>median</span><span><i style="background:#dc3545"></i>daily mean</span><span><i style="background:var(--act)"></i>actual</span></div>`;
    s.appendChild(drawChart(z));
    const cols = document.createElement("div"); cols.className = "cols";
    const daily = document.createElement("div");
    const dg = UNIT === "eur_mwh" || !cv.ok ? 1 : 3;
    daily.innerHTML = `<strong>Daily means, ${esc(cv.label)}</strong>`;
    daily.appendChild(table(["day", "D+", "hours", "p10", "p50", "p90"], f.daily.map(d => [d.date, d.horizon_day, d.hours, fmt(cv.convDay(d.p10, d.date), dg), fmt(cv.convDay(d.p50, d.date), dg), fmt(cv.convDay(d.p90, d.date), dg)])));
    cols.appendChild(daily);
    const acc = document.createElement("div");
    acc.className = "accuracy";
    const ov = z.accuracy && z.accuracy.overall;
    if (ov) {
      acc.innerHTML = `<strong>Accuracy so far</strong> <span class="sub">(EUR/MWh, ${ov.origins} origins, ${ov.hours} hours; naive: ${esc(z.accuracy.naive)})</span>` +
        `<div>MAE <b class="mae">${fmt(ov.mae, 2)}</b> · weekly naive ${fmt(ov.naive_mae, 2)} · rMAE ${fmt(ov.rmae, 3)} · p10–p90 coverage ${fmt(100 * ov.coverage_p10_p90, 0)}%</div>`;
      acc.appendChild(table(["D+", "hours", "MAE", "naive MAE", "rMAE", "coverage"], z.accuracy.by_horizon.map(h => [h.horizon_day, h.hours, fmt(h.mae, 2), fmt(h.naive_mae, 2), fmt(h.rmae, 3), fmt(100 * h.coverage_p10_p90, 0) + "%"])));
    } else {
      acc.innerHTML = "<strong>Accuracy so far</strong><div class=\\"sub\\">no actual prices for the forecast hours yet</div>";
    }
    cols.appendChild(acc);
    s.appendChild(cols);
    main.appendChild(s);
  }
}
for (const b of document.querySelectorAll("#units button")) b.addEventListener("click", () => { UNIT = b.dataset.unit; location.hash = "unit=" + UNIT; render(DATA); });
render(JSON.parse(document.getElementById("spotcast-data").textContent));
if (location.protocol.startsWith("http")) {
  setInterval(() => fetch("api/dashboard").then(r => r.ok ? r.json() : null).then(d => d && render(d)).catch(() => {}), 300000);
}
</script>
</body>
</html>
"""


def render(data: dict[str, Any]) -> str:
    """The page with ``data`` embedded (``</`` escaped so no value can close the script)."""
    payload = json.dumps(data, separators=(",", ":"), default=str).replace("</", "<\\/")
    payload = payload.replace("<!--", "<\\!--")
    return _PAGE.replace("__DATA__", payload)

