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
  main, #zones { display: grid; gap: 16px; }
  main { padding: 16px 20px; }
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
  svg.chart text.unit { fill: #495057; font-weight: 600; }
  svg.chart .hpt { fill: transparent; }
  svg.chart .hpt:hover { fill: var(--p50); }
  svg.weeks { height: 220px; }
  svg.weeks .wline { fill: none; stroke-width: 1.8; }
  section.history { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 12px 16px; }
  section.history h2 { font-size: 16px; margin: 0 0 4px; }
  section.history h3 { font-size: 14px; margin: 12px 0 2px; }
  #history-zones button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #adb5bd; background: #fff; border-radius: 3px; cursor: pointer; margin-right: 4px; }
  #history-zones button.on { background: var(--act); color: #fff; border-color: var(--act); }
  .legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
  .legend i { display: inline-block; width: 14px; height: 4px; margin-right: 4px; vertical-align: middle; }
  table { border-collapse: collapse; font-size: 12px; margin-top: 8px; }
  th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #f1f3f5; }
  th:first-child, td:first-child { text-align: left; }
  .cols { display: flex; gap: 24px; flex-wrap: wrap; }
  .empty { color: var(--muted); padding: 24px; }
  .fallback { background: #fff3cd; border: 1px solid #ffe69c; color: #664d03; padding: 6px 10px; border-radius: 4px; margin: 4px 0 8px; font-size: 13px; }
  .rates { color: var(--muted); font-size: 12px; }
  #units button, #res button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #adb5bd; background: #fff; border-radius: 3px; cursor: pointer; }
  #units button.on, #res button.on { background: var(--p50); color: #fff; border-color: var(--p50); }
  #tip { position: fixed; pointer-events: none; background: rgba(33,37,41,.9); color: #fff; padding: 4px 8px; border-radius: 4px; font-size: 12px; display: none; }
</style>
</head>
<body>
<header>
  <h1>spotcast</h1>
  <span class="meta">day-ahead price forecasts · p10–p90 band, median, actual prices · times in each zone's local time</span>
  <span id="units" class="meta">unit: <button data-unit="eur_mwh">EUR/MWh</button> <button data-unit="sek_kwh">SEK/kWh</button> <button data-unit="ore_kwh">öre/kWh</button></span>
  <span id="res" class="meta">steps: <button data-res="15min">15 min</button> <button data-res="60min">60 min</button></span>
  <span class="meta" id="generated"></span>
</header>
<main><div id="zones"><div class="empty">Loading…</div></div><section class="history" id="history" hidden></section></main>
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
// The unit, the steps and the history's zone are part of the address (#unit=sek_kwh&res=60min&zone=SE4),
// so a view can be bookmarked or shared; the buttons only change the address, and a change of address redraws.
// Steps: a zone whose prices clear in 15 minutes is drawn in quarter-hours (its published forecast
// at 15 minutes and the 15-minute prices) unless 60 min is chosen; an hourly zone always in hours.
let UNIT = "eur_mwh", RES = "15min", HZONE = null, DATA = null;
function readHash() {
  UNIT = (location.hash.match(/unit=([a-z_]+)/) || [])[1] || "eur_mwh";
  RES = (location.hash.match(/res=(15min|60min)/) || [])[1] || "15min";
  HZONE = (location.hash.match(/zone=([A-Za-z0-9_-]+)/) || [])[1] || null;
}
function setHash(changes) {
  const st = Object.assign({ unit: UNIT, res: RES, zone: HZONE }, changes);
  location.hash = "unit=" + st.unit + "&res=" + st.res + (st.zone ? "&zone=" + st.zone : "");
}
function quarterly(z) { return RES === "15min" && Array.isArray(z.forecast_15min) && z.forecast_15min.length > 0; }
readHash();
// Round axis values: 1, 2, 2.5 or 5 times a power of ten, about n of them over [lo, hi].
function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { const c = Number.isFinite(lo) ? lo : 0; lo = c - 1; hi = c + 1; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = [1, 2, 2.5, 5, 10].find(k => k * mag >= raw * (1 - 1e-9));
  const step = m * mag;
  const start = Math.floor(lo / step + 1e-9) * step, end = Math.ceil(hi / step - 1e-9) * step;
  const dec = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (m === 2.5 ? 1 : 0));
  const ticks = [];
  for (let i = 0; start + i * step <= end + step / 2; i++) ticks.push(Number((start + i * step).toFixed(dec)));
  return { lo: start, hi: end, ticks, dec };
}
// The y axis of a chart: round ticks with grid lines, and the unit above them.
function yAxis(svg, g, lo, hi, unit, fromZero = false) {
  const pad = (hi - lo) * 0.02;
  const t = niceTicks(fromZero ? 0 : lo - pad, hi + pad, 6);
  const y = v => g.T + (t.hi - v) / (t.hi - t.lo) * (g.H - g.T - g.B);
  for (const v of t.ticks) {
    el("line", { class: "grid", x1: g.L, x2: g.W - g.R, y1: y(v), y2: y(v) }, svg);
    el("text", { class: "ytick", x: g.L - 6, y: y(v) + 4, "text-anchor": "end" }, svg).textContent = v.toFixed(t.dec).replace("-", "\u2212");
  }
  el("text", { class: "unit", x: 4, y: 11 }, svg).textContent = unit;
  return y;
}
// Day lines and labels along x, at most about ``most`` labels.
function dayAxis(svg, g, x, t0, t1, tz, most = 12) {
  const day = 86400e3, every = Math.max(1, Math.ceil((t1 - t0) / day / most));
  let i = 0;
  for (let t = Math.ceil(t0 / day) * day; t < t1; t += day, i++) {
    el("line", { class: "grid", x1: x(t), x2: x(t), y1: g.T, y2: g.H - g.B }, svg);
    if (i % every === 0) el("text", { x: x(t) + 3, y: g.H - 8 }, svg).textContent = localLabel(new Date(t).toISOString(), tz, { day: "2-digit", month: "short" });
  }
  el("line", { class: "axis", x1: g.L, x2: g.W - g.R, y1: g.H - g.B, y2: g.H - g.B }, svg);
}
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
  const W = 1000, H = 300, L = 56, R = 12, T = 18, B = 28, g = { W, H, L, R, T, B };
  const q = quarterly(z), step = (q ? 15 : 60) * 60e3;
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "data-zone": z.zone, "data-resolution": q ? 15 : 60 });
  const cv = converter(z);
  const f = (q ? z.forecast_15min : z.forecast.forecast).filter(r => r.p50 !== null).map(r => Object.assign({}, r, { p10: cv.conv(r.p10, r.ts), p50: cv.conv(r.p50, r.ts), p90: cv.conv(r.p90, r.ts) }));
  const a = ((q ? z.actuals_15min : z.actuals) || []).map(r => ({ ts: r.ts, price: cv.conv(r.price, r.ts) }));
  const times = f.map(r => Date.parse(r.ts)).concat(a.map(r => Date.parse(r.ts)));
  const vals = f.flatMap(r => [r.p10, r.p90, r.p50]).concat(a.map(r => r.price)).filter(v => v !== null && v !== undefined);
  if (!times.length || !vals.length) return svg;
  const t0 = Math.min(...times), t1 = Math.max(...times) + step;
  const x = t => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = yAxis(svg, g, Math.min(...vals), Math.max(...vals), cv.label);
  dayAxis(svg, g, x, t0, t1, z.timezone);
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
// Split rows into runs of consecutive hours where ok(row) holds (gaps and missing bands break lines).
function runs(rows, ok) {
  const out = []; let cur = [];
  rows.forEach((r, i) => {
    const cont = i > 0 && Date.parse(r.ts) - Date.parse(rows[i - 1].ts) === 3600e3;
    if (!ok(r) || (!cont && cur.length)) { if (cur.length) out.push(cur); cur = []; }
    if (ok(r)) cur.push(r);
  });
  if (cur.length) out.push(cur);
  return out;
}
// Past forecasts against what happened: each hour's shortest-horizon published forecast (p50 and
// the p10–p90 band) over the newest origin days with actual prices, and the actual price line.
function drawHistory(z) {
  const W = 1000, H = 300, L = 56, R = 12, T = 18, B = 28, g = { W, H, L, R, T, B }, step = 3600e3;
  const p = (z.accuracy && z.accuracy.pairs) || [];
  const svg = el("svg", { class: "chart history", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "data-zone": z.zone, "data-hours": p.length });
  const vals = p.flatMap(r => [r.p10, r.p50, r.p90, r.actual]).filter(v => v !== null && v !== undefined);
  if (!p.length || !vals.length) return svg;
  const t0 = Date.parse(p[0].ts), t1 = Date.parse(p[p.length - 1].ts) + step;
  const x = t => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = yAxis(svg, g, Math.min(...vals), Math.max(...vals), z.accuracy.unit || "EUR/MWh");
  dayAxis(svg, g, x, t0, t1, z.timezone);
  const stepLine = (rows, key) => rows.map(r => `${x(Date.parse(r.ts))},${y(r[key])} ${x(Date.parse(r.ts) + step)},${y(r[key])}`).join(" ");
  for (const run of runs(p, r => r.p10 !== null && r.p90 !== null)) {
    const upper = run.map(r => `${x(Date.parse(r.ts))},${y(r.p90)} ${x(Date.parse(r.ts) + step)},${y(r.p90)}`);
    const lower = run.map(r => `${x(Date.parse(r.ts) + step)},${y(r.p10)} ${x(Date.parse(r.ts))},${y(r.p10)}`).reverse();
    el("polygon", { class: "band", points: upper.concat(lower).join(" ") }, svg);
  }
  for (const run of runs(p, r => r.p50 !== null)) el("polyline", { class: "p50", points: stepLine(run, "p50") }, svg);
  for (const run of runs(p, r => r.actual !== null)) el("polyline", { class: "actual", points: stepLine(run, "actual") }, svg);
  p.forEach(r => {
    if (r.p50 === null) return;
    const t = Date.parse(r.ts);
    const c = el("circle", { class: "hpt", cx: x(t + step / 2), cy: y(r.p50), r: 2.2, "data-ts": r.ts, "data-p50": r.p50, "data-actual": r.actual, "data-horizon": r.horizon_day }, svg);
    c.addEventListener("mousemove", ev => tip(ev, `${localLabel(r.ts, z.timezone, { dateStyle: "medium", timeStyle: "short" })} · D+${r.horizon_day}<br>p50 ${fmt(r.p50, 2)} (p10 ${fmt(r.p10, 2)} – p90 ${fmt(r.p90, 2)})<br>actual ${fmt(r.actual, 2)} · error ${fmt(r.p50 - r.actual, 2)}`));
    c.addEventListener("mouseleave", hideTip);
  });
  return svg;
}
const HCOLORS = ["#052c65", "#0a58ca", "#3d8bfd", "#6ea8fe", "#9ec5fe", "#adb5bd", "#ced4da"];
// MAE per week of origins, one line per horizon day (D+1 darkest).
function drawWeeks(z) {
  const W = 1000, H = 220, L = 56, R = 12, T = 18, B = 28, g = { W, H, L, R, T, B };
  const rows = (z.accuracy && z.accuracy.by_week) || [];
  const svg = el("svg", { class: "chart weeks", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "data-zone": z.zone, "data-rows": rows.length });
  const weeks = [...new Set(rows.map(r => r.week_start))].sort();
  const vals = rows.map(r => r.mae).filter(v => v !== null);
  if (!weeks.length || !vals.length) return svg;
  const x = i => weeks.length === 1 ? (L + W - R) / 2 : L + 50 + i * (W - L - R - 100) / (weeks.length - 1);
  const y = yAxis(svg, g, 0, Math.max(...vals), "MAE, " + (z.accuracy.unit || "EUR/MWh"), true);
  weeks.forEach((w, i) => { el("text", { x: x(i), y: H - 8, "text-anchor": "middle" }, svg).textContent = "week of " + w.slice(5); });
  el("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }, svg);
  const horizons = [...new Set(rows.map(r => r.horizon_day))].sort((a, b) => a - b);
  for (const h of horizons) {
    const color = HCOLORS[Math.min(h - 1, HCOLORS.length - 1)];
    const pts = weeks.map((w, i) => [i, rows.find(r => r.week_start === w && r.horizon_day === h)]).filter(([, r]) => r && r.mae !== null);
    if (pts.length > 1) el("polyline", { class: "wline", stroke: color, points: pts.map(([i, r]) => `${x(i)},${y(r.mae)}`).join(" "), "data-horizon": h }, svg);
    for (const [i, r] of pts) {
      const c = el("circle", { class: "wpt", cx: x(i), cy: y(r.mae), r: 3.2, fill: color, "data-week": r.week_start, "data-horizon": h, "data-mae": r.mae }, svg);
      c.addEventListener("mousemove", ev => tip(ev, `week of ${r.week_start} · D+${h}<br>MAE ${fmt(r.mae, 2)} (weekly naive ${fmt(r.naive_mae, 2)})<br>p10–p90 coverage ${fmt(100 * r.coverage_p10_p90, 0)}% · ${r.origins} origins, ${r.hours} hours`));
      c.addEventListener("mouseleave", hideTip);
    }
  }
  return svg;
}
function renderHistory(data) {
  const box = document.getElementById("history");
  const zones = (data.zones || []);
  if (!zones.length) { box.hidden = true; return; }
  box.hidden = false;
  const z = zones.find(q => q.zone === HZONE) || zones[0];
  const a = z.accuracy;
  const btns = zones.map(q => `<button data-zone="${esc(q.zone)}" class="${q.zone === z.zone ? "on" : ""}">${esc(q.zone)}</button>`).join("");
  box.innerHTML = `<h2>Accuracy over time · <span class="hzone">${esc(z.zone)}</span></h2>` +
    `<div class="sub">zone: <span id="history-zones">${btns}</span> · errors in ${esc((a && a.unit) || "EUR/MWh")}, times in ${esc(z.timezone)}</div>`;
  for (const b of box.querySelectorAll("#history-zones button")) b.addEventListener("click", () => setHash({ zone: b.dataset.zone }));
  if (!a || !a.pairs || !a.pairs.length) {
    const why = a && a.reason ? a.reason : "no accuracy for this zone yet";
    box.insertAdjacentHTML("beforeend", `<div class="empty reason">${esc(why)}</div>`);
    return;
  }
  const ov = a.overall;
  box.insertAdjacentHTML("beforeend", `<h3>Forecasts against what happened</h3><div class="sub">each hour's published forecast with the shortest horizon (the day-ahead one where there is one), origins ${esc(ov.first_origin_date)} to ${esc(ov.last_origin_date)}; MAE ${fmt(ov.mae, 2)}, p10–p90 coverage ${fmt(100 * ov.coverage_p10_p90, 0)}% over all horizons</div>` +
    `<div class="legend"><span><i style="background:var(--band)"></i>p10–p90</span><span><i style="background:var(--p50)"></i>median (p50)</span><span><i style="background:var(--act)"></i>actual</span></div>`);
  box.appendChild(drawHistory(z));
  box.insertAdjacentHTML("beforeend", `<h3>MAE and p10–p90 coverage by week</h3><div class="sub">by the week the forecasts were made (newest ${a.weeks} weeks) and horizon day; coverage should be near 80%</div>` +
    `<div class="legend">${[1, 2, 3, 4, 5, 6, 7].map(h => `<span><i style="background:${HCOLORS[h - 1]}"></i>D+${h}</span>`).join("")}</div>`);
  box.appendChild(drawWeeks(z));
  const weeks = [...new Set(a.by_week.map(r => r.week_start))].sort();
  const hs = [...new Set(a.by_week.map(r => r.horizon_day))].sort((p, q) => p - q);
  const cell = (w, h) => { const r = a.by_week.find(q => q.week_start === w && q.horizon_day === h); return r ? `${fmt(r.mae, 2)} · ${fmt(100 * r.coverage_p10_p90, 0)}%` : "–"; };
  const t = table(["week of", "origins", ...hs.map(h => "D+" + h)], weeks.map(w => [w, Math.max(...a.by_week.filter(q => q.week_start === w).map(q => q.origins)), ...hs.map(h => cell(w, h))]));
  t.className = "weeks";
  box.appendChild(t);
}
function render(data) {
  DATA = data;
  if (!(data.units || {})[UNIT]) UNIT = "eur_mwh";
  for (const b of document.querySelectorAll("#units button")) b.classList.toggle("on", b.dataset.unit === UNIT);
  for (const b of document.querySelectorAll("#res button")) b.classList.toggle("on", b.dataset.res === RES);
  const main = document.getElementById("zones");
  main.innerHTML = "";
  document.getElementById("generated").textContent = data.generated_at ? "updated " + data.generated_at.slice(0, 19).replace("T", " ") + " UTC" : "";
  if (!data.zones || !data.zones.length) {
    document.getElementById("history").hidden = true;
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
    s.innerHTML = `<h2>${esc(f.title)}</h2><div class="sub">${by} · vintage ${f.vintage} of ${f.vintages}, published (${gate}) · origin ${localLabel(f.origin, z.timezone, { dateStyle: "medium", timeStyle: "short" })} (${esc(z.timezone)}) · ${f.hours} hours${quarterly(z) ? " in 15-minute steps" : ""} · ${esc(cv.label)}</div>` +
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
      acc.innerHTML = `<strong>Accuracy so far</strong><div class="sub">${esc((z.accuracy && z.accuracy.reason) || "no actual prices for the forecast hours yet")}</div>`;
    }
    cols.appendChild(acc);
    s.appendChild(cols);
    main.appendChild(s);
  }
  renderHistory(data);
}
for (const b of document.querySelectorAll("#units button")) b.addEventListener("click", () => setHash({ unit: b.dataset.unit }));
for (const b of document.querySelectorAll("#res button")) b.addEventListener("click", () => setHash({ res: b.dataset.res }));
window.addEventListener("hashchange", () => { readHash(); render(DATA); });
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

