"""`spotcast-features` commands, run through Typer's test runner against a real store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spotcast_features import synthetic
from spotcast_features.cli import app
from spotcast_storage.config import reset_defaults
from spotcast_storage.contracts.market import PRICES


@pytest.fixture
def run(project):
    runner = CliRunner()
    store = str(project.path)

    def invoke(*args):
        reset_defaults()
        return runner.invoke(app, ["--store", store, *args])

    yield invoke
    reset_defaults()


@pytest.fixture
def with_prices(project):
    PRICES.get_or_create(project.get_feature_store()).insert(synthetic.prices(["SE3", "SE4"], "2024-04-20", 15))


def test_build_show_rebuild(run, with_prices):
    r = run("build", "--zone", "SE3", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "features build v1" in r.output and "SE3" in r.output and "SE4" not in r.output.split("->")[0]
    r = run("show", "--zone", "SE3", "--origin", "2024-05-01", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 168 and rows[0]["origin"].startswith("2024-05-01T08:00:00")
    r = run("show", "-z", "se3", "-o", "2024-05-01", "--columns", "ts,hour,price_lag_1d", "-f", "csv")
    assert r.exit_code == 0 and r.stdout.splitlines()[0] == "ts,hour,price_lag_1d"
    r = run("rebuild", "--format", "json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["zones"] == ["SE3", "SE4"] and summary["inserted"] > 0 and summary["updated"] == 0


def test_list_shows_the_transformations(run):
    r = run("list", "--format", "json")
    assert r.exit_code == 0, r.output
    names = [t["name"] for t in json.loads(r.stdout)]
    assert names == ["calendar", "price_history", "weather", "exogenous"]
    r = run("list")
    assert "price_lag_1d" in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("build", "--zone", "XX1", "--no-progress"), "unknown zone 'XX1'; known zones: SE1"),
    (("build", "--origin-hour", "25", "--no-progress"), "origin hour must be"),
    (("show", "--zone", "SE3", "--origin", "2024-05-01"), "price_features v1 does not exist"),
    (("show", "--zone", "SE3", "--origin", "not-a-date"), "cannot parse origin"),
])
def test_bad_input_is_a_one_line_error(run, with_prices, args, message):
    r = run(*args)
    assert r.exit_code == 1
    assert message in r.output and "Traceback" not in r.output


def test_show_with_an_unknown_column(run, with_prices):
    assert run("build", "--no-progress").exit_code == 0
    r = run("show", "--zone", "SE3", "--origin", "2024-05-01", "--columns", "hour,nope")
    assert r.exit_code == 1 and "unknown column(s) ['nope']" in r.output


def test_every_command_has_an_example_in_its_help(run):
    for cmd in ("build", "rebuild", "list", "show", "version"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "Example: spotcast-features" in r.output, cmd


def test_the_store_flag_beats_the_environment(project, with_prices, tmp_path):
    """With SPOTCAST_STORE naming another file, --store still decides (flag > environment > default)."""
    other = tmp_path / "other.duckdb"
    reset_defaults()
    r = CliRunner().invoke(app, ["--store", str(project.path), "build", "--no-progress"],
                           env={"SPOTCAST_STORE": str(other)})
    assert r.exit_code == 0, r.output
    assert f"local store {project.path}" in r.stderr and not other.exists()
    assert project.get_feature_store().get_feature_group("price_features", 1).count() > 0
