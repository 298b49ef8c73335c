"""CLI start-up benchmark (issue 17): how long each console script takes to answer ``--help``
and a usage error, beside ``python -c pass`` measured in the same run.

    uv run python benchmarks/cli.py [--runs 7]

Every figure is the median of ``--runs`` fresh processes (the interpreter start included, as a
user sees it). The baseline is the bare interpreter of the same virtual environment. Alongside
the times it lists which heavy libraries (pandas, DuckDB, xgboost, matplotlib, FastAPI, pydantic)
each command had imported, read from ``sys.modules`` at exit.

Target: every ``--help`` and usage error in <= 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine

CLIS = ["spotcast", "spotcast-store", "spotcast-ingest", "spotcast-features", "spotcast-train",
        "spotcast-serve"]
HEAVY = ("pandas", "duckdb", "xgboost", "matplotlib", "fastapi", "pydantic")
TARGET_S = 0.3

# Runs a console script's entry point the way its generated wrapper does, then reports which
# heavy modules were imported. Used once per command, outside the timed runs.
PROBE = """
import sys, importlib.metadata as md
name = sys.argv[1]
ep = next(e for e in md.entry_points(group="console_scripts") if e.name == name)
sys.argv = sys.argv[1:]
try:
    ep.load()()
except SystemExit:
    pass
finally:
    print("heavy:" + ",".join(h for h in {heavy!r} if h in sys.modules), file=sys.__stderr__)
"""


def script(name: str) -> str:
    """The console script beside this interpreter (the venv's bin folder)."""
    return str(Path(sys.executable).with_name(name))


def timed(argv: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes, output discarded."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def imported(name: str, args: list[str]) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), name, *args],
                         capture_output=True, text=True, check=False)
    # the marked line: with nothing heavy it is bare, and the last non-empty line was the usage error
    marked = [line for line in out.stderr.splitlines() if line.startswith("heavy:")]
    return marked[-1].removeprefix("heavy:") if marked else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh processes per command (median)")
    a = ap.parse_args()
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = timed([sys.executable, "-c", "pass"], a.runs)
    print(f"baseline `python -c pass`: {base * 1000:.0f} ms (median of {a.runs})\n")
    cases = [(c, ["--help"]) for c in CLIS]
    cases += [("spotcast-serve", ["predict", "--help"]), ("spotcast-serve", ["predict"]),
              ("spotcast", ["train", "fit", "--help"]), ("spotcast-ingest", ["backfill", "--zone"]),
              ("spotcast", ["nosuchcommand"])]
    print(f"| command | median | vs `python -c pass` | target <= {TARGET_S} s | heavy imports |")
    print("| --- | ---: | ---: | --- | --- |")
    for name, args in cases:
        t = timed([script(name), *args], a.runs)
        verdict = "met" if t <= TARGET_S else "not met"
        print(f"| `{name} {' '.join(args)}` | {t * 1000:.0f} ms | {t / base:.1f}x | {verdict} | "
              f"{imported(name, args) or 'none'} |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
