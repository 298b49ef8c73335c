"""Ingest benchmark: a multi-year backfill of several zones, concurrent against sequential.

A local server (a separate process) answers in elprisetjustnu's and Open-Meteo's formats with a
fixed latency per request (20 ms by default), from answers built before the clock starts. Three
runs of the same backfill (prices from elprisetjustnu, observed weather from open-meteo):

1. concurrent (8 requests in flight), fresh store and cache;
2. sequential (1 request in flight), fresh store and cache: the baseline;
3. run 1 again on its store and cache: must send zero requests.

Usage: uv run python benchmarks/ingest.py [--years 3] [--zones SE1,SE2,SE3,SE4] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def serve(args: argparse.Namespace) -> None:
    from spotcast_ingest.testing import FakeApis

    prebuilt = FakeApis.prebuild_elprisetjustnu(args.zones.split(","), args.first, args.last)
    with FakeApis(args.latency, prebuilt=prebuilt) as api:
        print(api.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def stats(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stats") as r:
        return int(json.load(r)["requests"])


def run(url: str, store_dir: Path, zones: list[str], first: dt.date, last: dt.date, concurrency: int) -> tuple[float, int, int]:
    from spotcast_ingest.http import HttpSettings
    from spotcast_ingest.ingest import backfill
    from spotcast_storage import get_storage

    project = get_storage(mode="local", path=store_dir / "store.duckdb")
    settings = HttpSettings(concurrency=concurrency, cache_dir=store_dir / "cache", timeout=30, retries=2)
    before = stats(url)
    t0 = time.perf_counter()
    rows = 0
    for source in ("elprisetjustnu", "open-meteo"):
        report = backfill(project, source, zones, first, last, now="2026-01-01T00:00Z", base_url=url,
                          settings=settings)
        rows += sum(g.rows_inserted for g in report.groups.values())
    elapsed = time.perf_counter() - t0
    project.close()
    return elapsed, stats(url) - before, rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--zones", default="SE1,SE2,SE3,SE4")
    p.add_argument("--latency", type=float, default=0.02, help="seconds added to every answer")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2025, 10, 31))
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--first", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.first is None:
        args.first = args.last - dt.timedelta(days=round(365.25 * args.years) - 1)
    if args.serve:
        serve(args)
        return
    from _common import machine

    zones = args.zones.split(",")
    days = (args.last - args.first).days + 1
    print(f"machine: {machine()}")
    print(f"backfill {args.first}..{args.last} ({days} days) x {len(zones)} zones: "
          f"{days * len(zones)} price requests + quarterly weather requests; latency {args.latency * 1000:.0f} ms")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--zones", args.zones, "--latency", str(args.latency),
         "--first", args.first.isoformat(), "--last", args.last.isoformat()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp:
            a, b = Path(tmp) / "concurrent", Path(tmp) / "sequential"
            t_conc, n_conc, rows = run(url, a, zones, args.first, args.last, args.concurrency)
            print(f"concurrent ({args.concurrency} in flight): {t_conc:7.1f} s  {n_conc} requests  {rows} rows")
            t_seq, n_seq, rows_seq = run(url, b, zones, args.first, args.last, 1)
            print(f"sequential (1 in flight):  {t_seq:7.1f} s  {n_seq} requests  {rows_seq} rows")
            t_again, n_again, rows_again = run(url, a, zones, args.first, args.last, args.concurrency)
            print(f"repeat of the concurrent run: {t_again:5.1f} s  {n_again} requests  {rows_again} new rows")
            print(f"speed-up concurrent vs sequential: {t_seq / t_conc:.1f}x (target >= 5x); "
                  f"repeat sent {n_again} requests (target 0)")
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
