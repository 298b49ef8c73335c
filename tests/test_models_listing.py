"""`spotcast-store models`, `spotcast-train models` and `spotcast-serve models` print one listing
(issue 17, polish): they had three layouts (raw dicts, JSON strings, different columns)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spotcast_serve.cli import app as serve_app
from spotcast_storage import get_storage
from spotcast_storage.cli import app as store_app
from spotcast_train.cli import app as train_app

APPS = {"store": store_app, "train": train_app, "serve": serve_app}


def _store(tmp_path):
    path = tmp_path / "store.duckdb"
    project = get_storage(mode="local", path=path)
    art = tmp_path / "m.json"
    art.write_text("{}")
    for zone, mae in (("SE3", 11.779778953606021), ("SE4", 9.5)):
        project.get_model_registry().python.create_model(
            f"price_model_{zone.lower()}", metrics={"mae": mae, "rmae": 0.8312},
            lineage={"zones": [zone], "model_type": "xgboost",
                     "feature_groups": [{"name": "price_features", "version": 1, "commit_id": 7}]}).save(art)
    project.close()
    return path


def test_the_three_models_commands_print_the_same_listing(tmp_path) -> None:
    path = _store(tmp_path)
    as_json, headers = {}, {}
    for stage, app in APPS.items():
        r = CliRunner().invoke(app, ["--store", str(path), "models", "--format", "json"])
        assert r.exit_code == 0, r.output
        as_json[stage] = [{k: v for k, v in row.items() if k != "created"} for row in json.loads(r.stdout)]
        t = CliRunner().invoke(app, ["--store", str(path), "models"], terminal_width=250)
        assert t.exit_code == 0, t.output
        headers[stage] = next(line for line in t.stdout.splitlines() if "name" in line and "version" in line)
        assert "mae 11.78, rmae 0.83" in t.stdout and "price_features v1@7" in t.stdout
    assert as_json["store"] == as_json["train"] == as_json["serve"]
    assert headers["store"] == headers["train"] == headers["serve"]
    row = as_json["store"][-1]
    assert row["name"] == "price_model_se3" and row["metrics"]["mae"] == 11.779778953606021  # exact for programs
    assert row["zones"] == "SE3" and row["trained_on"] == "price_features v1@7"


def test_train_models_filters_by_zone(tmp_path) -> None:
    r = CliRunner().invoke(train_app, ["--store", str(_store(tmp_path)), "models", "--zone", "se4", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [m["name"] for m in json.loads(r.stdout)] == ["price_model_se4"]
