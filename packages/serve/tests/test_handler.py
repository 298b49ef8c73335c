"""The `spotcast run` handler, fed from the store's real event log."""

from __future__ import annotations

import pandas as pd

from spotcast_serve import plugin
from spotcast_serve.handler import CONSUMER, MODELS_CONSUMER, zones_to_forecast
from spotcast_storage.pipeline import RunContext
from spotcast_storage.runner import deliver


def _handlers():
    """The handlers exactly as the serve plugin registers them for `spotcast run` (called
    directly, so other stages' plugins in the workspace do not take part)."""
    found = []
    plugin.register_event_handlers(register=found.append)
    return found


def _run(ctx):
    """One delivery pass of the real `spotcast run` machinery over serve's handlers."""
    return [(c, summary) for c, _n, summary in deliver(ctx, handlers=_handlers()).deliveries]


def _forecast_origins(project):
    fg = project.get_feature_store().get_feature_group("forecasts", 3)
    df = fg.select(["zone", "origin"]).read().drop_duplicates()
    return sorted((z, o.isoformat()) for z, o in zip(df["zone"], df["origin"], strict=True))


def test_handlers_are_registered_with_their_contract():
    by = {h.consumer: h for h in _handlers()}
    assert set(by) == {CONSUMER, MODELS_CONSUMER}
    assert (by[CONSUMER].kinds, by[CONSUMER].names) == (("commit",), ("price_features",))
    assert (by[MODELS_CONSUMER].kinds, by[MODELS_CONSUMER].names) == (("model",), ())
    assert {h.order for h in by.values()} == {40}


def test_handler_forecasts_changed_zones_and_is_idempotent(ready, project, data, tmp_path):
    ctx = RunContext(project=project, zones=[], options={"outputs": tmp_path / "o"}, log=lambda s: None,
                     now=pd.Timestamp("2024-03-22T15:00Z"))
    where = f"files in {tmp_path / 'o'}"  # `spotcast run` says where the files are
    assert _run(ctx) == [(CONSUMER, f"forecasts: SE3 new, SE4 new; 4 {where}"),
                         (MODELS_CONSUMER, f"forecasts: SE3 unchanged, SE4 unchanged; 4 {where}")]
    assert _forecast_origins(project) == [("SE3", "2024-03-22T09:00:00+00:00"), ("SE4", "2024-03-22T09:00:00+00:00")]
    # Made at the run's now (a replay's --now), and named by it.
    assert (tmp_path / "o" / "forecast_SE4_2024-03-23_2024-03-29_made_2024-03-22T1600CET.png").exists()
    assert _run(ctx) == []  # nothing pending, and serve's own commits are not delivered back

    # A new origin for SE3 only: only SE3 is forecast again.
    data.write_features(zones=("SE3",), origins=["2024-03-23"])
    assert _run(ctx) == [(CONSUMER, f"forecasts: SE3 new; 2 {where}")]
    assert ("SE3", "2024-03-23T09:00:00+00:00") in _forecast_origins(project)
    assert not any(o.startswith("2024-03-23") for z, o in _forecast_origins(project) if z == "SE4")

    # Re-delivering the same events (a crash before the ack) writes nothing new.
    log = project.get_event_log()
    before = log.latest_event_id()
    events = log.read(after=0, kinds=("commit",), names=("price_features",))
    assert _handlers()[0].handle(events, ctx) == f"forecasts: SE3 unchanged, SE4 unchanged; 4 {where}"
    assert log.latest_event_id() == before


def test_new_model_reforecasts_every_zone_and_run_zones_limit_it(ready, project, data, tmp_path):
    ctx = RunContext(project=project, zones=["SE4"], options={"outputs": None}, log=lambda s: None)
    assert _run(ctx) == [(CONSUMER, "forecasts: SE4 new"), (MODELS_CONSUMER, "forecasts: SE4 unchanged")]
    data.naive_model(spread=2.0)
    events = project.get_event_log().pending(MODELS_CONSUMER, kinds=("model",))
    assert [(e.kind, e.name) for e in events] == [("model", "price_naive")]
    assert zones_to_forecast(events, project) == ["SE3", "SE4"]
    assert _run(ctx) == [(MODELS_CONSUMER, "forecasts: SE4 new")]


def test_zone_without_model_is_skipped_with_a_note(data, project):
    data.write_features(zones=("SE3",))
    notes = []
    ctx = RunContext(project=project, zones=[], options={"outputs": None}, log=notes.append)
    assert _run(ctx) == [(CONSUMER, "skipped (no features or model yet): SE3")]
    assert "spotcast-train fit --zone SE3" in notes[0]


def test_unrelated_and_unchanged_commits_concern_no_zone(ready, project, data):
    import dataclasses

    log = project.get_event_log()
    fg = project.get_feature_store().get_feature_group("price_features", 1)
    before = log.latest_event_id()
    fg.insert(fg.read().head(10))  # same rows again: changes nothing, so no commit and no event
    assert log.latest_event_id() == before
    # stores written before idle inserts stopped emitting events hold changed=False events
    real = next(e for e in reversed(log.read()) if e.name == "price_features")
    unchanged = [dataclasses.replace(real, payload={**real.payload, "changed": False})]
    assert not unchanged[-1].changed
    assert zones_to_forecast(unchanged, project) == []
    prices = [e for e in log.read() if e.name == "prices_hourly"]
    assert prices and zones_to_forecast(prices, project) == []


def test_handler_writes_beside_the_store_without_an_outputs_option(ready, project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ctx = RunContext(project=project, zones=["SE3"], options={}, log=lambda s: None,
                     now=pd.Timestamp("2024-03-22T15:00Z"))
    folder = project.path.with_name(project.path.stem + "-outputs")
    assert _run(ctx)[0] == (CONSUMER, f"forecasts: SE3 new; 2 files in {folder}")
    assert len(list(folder.glob("forecast_SE3_*.csv"))) == 1 and not (tmp_path / "outputs").exists()
