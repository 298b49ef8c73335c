"""`--help` of every CLI answers without importing the heavy libraries (issue 17).

Not a timing (that is benchmarks/cli.py): each case runs the console script's entry point in a
fresh interpreter and reads ``sys.modules`` at exit, so the test fails the day a module-level
``import pandas`` creeps back into a CLI module or something it imports.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "duckdb", "xgboost", "matplotlib", "fastapi", "numpy", "pyarrow", "uvicorn", "pydantic")

PROBE = """
import json, sys, importlib.metadata as md
name = sys.argv[1]
ep = next(e for e in md.entry_points(group="console_scripts") if e.name == name)
sys.argv = sys.argv[1:]
code = 0
try:
    ep.load()()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(m.split(".")[0] for m in sys.modules)}), file=sys.__stderr__)
"""


def run_probe(*argv: str) -> tuple[int, set[str], str]:
    p = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), p.stdout


@pytest.mark.parametrize("argv", [
    ("spotcast", "--help"),
    ("spotcast-store", "--help"),
    ("spotcast-ingest", "--help"),
    ("spotcast-features", "--help"),
    ("spotcast-train", "--help"),
    ("spotcast-serve", "--help"),
    ("spotcast-serve", "predict", "--help"),
    ("spotcast", "train", "fit", "--help"),
    ("spotcast", "run", "--help"),
    ("spotcast-ingest", "backfill"),  # a usage error: missing options
])
def test_help_and_usage_errors_import_no_heavy_library(argv: tuple[str, ...]) -> None:
    code, modules, out = run_probe(*argv)
    assert code in (0, 2), f"{' '.join(argv)} exited {code}"
    if "--help" in argv:
        assert "Usage:" in out
    assert not modules & set(HEAVY), f"{' '.join(argv)} imported {sorted(modules & set(HEAVY))}"


def test_probe_sees_a_heavy_import() -> None:
    """The probe can fail: a command that reads the store does import pandas."""
    code, modules, _ = run_probe("spotcast-store", "contracts")
    assert code == 0 and "pandas" in modules


@pytest.mark.parametrize("name, distribution", [
    ("spotcast-store", "spotcast-storage"), ("spotcast-ingest", "spotcast-ingest"),
    ("spotcast-features", "spotcast-features"), ("spotcast-train", "spotcast-train"),
    ("spotcast-serve", "spotcast-serve"),
])
def test_version_of_each_cli_is_the_installed_one(name: str, distribution: str) -> None:
    from importlib.metadata import version

    code, modules, out = run_probe(name, "--version")
    assert code == 0 and out == f"{distribution} {version(distribution)}\n"
    assert not modules & set(HEAVY)


def test_umbrella_version_lists_the_stages() -> None:
    from importlib.metadata import version

    code, _, out = run_probe("spotcast", "--version")
    assert code == 0 and out.startswith(f"spotcast {version('spotcast')} (")
    for stage in ("storage", "ingest", "features", "train", "serve"):
        assert f"spotcast-{stage} {version('spotcast-' + stage)}" in out
    code, _, out = run_probe("spotcast", "serve", "--version")  # a mounted stage: its own version
    assert code == 0 and out == f"spotcast-serve {version('spotcast-serve')}\n"


def test_package_version_attribute_is_the_metadata() -> None:
    from importlib.metadata import version

    import spotcast_features
    import spotcast_ingest
    import spotcast_serve
    import spotcast_storage
    import spotcast_train

    for module in (spotcast_storage, spotcast_ingest, spotcast_features, spotcast_train, spotcast_serve):
        assert module.__version__ == version(module.__name__.replace("_", "-"))


@pytest.mark.parametrize("argv, stage_clis", [
    (("spotcast", "train", "fit", "--help"), {"spotcast_train"}),
    (("spotcast", "--store", "x.duckdb", "serve", "predict", "--help"), {"spotcast_serve"}),
    (("spotcast", "run", "--help"), set()),
    (("spotcast", "nosuchcommand"), set()),
    (("spotcast", "--help"), {"spotcast_ingest", "spotcast_features", "spotcast_train", "spotcast_serve"}),
])
def test_the_umbrella_loads_only_the_stage_cli_a_command_names(argv, stage_clis) -> None:
    """`spotcast train fit --help` loaded every stage's CLI module (twice the start-up time)."""
    code, modules, _ = run_probe(*argv)
    assert code in (0, 2)
    loaded = {m for m in ("spotcast_ingest", "spotcast_features", "spotcast_train", "spotcast_serve")
              if m in modules}
    assert loaded == stage_clis, f"{' '.join(argv)} loaded {sorted(loaded)}"


def test_command_of_skips_the_umbrellas_options() -> None:
    from spotcast_storage.umbrella import command_of

    assert command_of(["--store", "demo.duckdb", "--mode", "local", "train", "fit"]) == "train"
    assert command_of(["--help"]) is None and command_of([]) is None
    assert command_of(["--version"]) is None and command_of(["run", "--zone", "SE3"]) == "run"
