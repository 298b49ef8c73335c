"""The `spotcast run` handler, fed from the store's real event log."""

from __future__ import annotations

from spotcast_serve import plugin
from spotcast_serve.handler import CONSUMER, zones_to_forecast
from spotcast_storage.pipeline import RunContext


def _handler():
    """The handler exactly as the serve plugin registers it for `spotcast run` (called
    directly, so other stages' plugins in the workspace do not take part)."""
    found = []
    plugin.register_event_handlers(register=found.append)
    assert [h.consumer for h in found] == [CONSUMER]
    return found[0]


def _deliver(project, handler, ctx):
    """What `spotcast run` does: pending events after the cursor, handle, then ack."""
    log = project.get_event_log()
    events = log.pending(handler.consumer, kinds=handler.kinds, names=handler.names or None)
    summary = handler.handle(events, ctx) if events else None
    if events:
        log.ack(handler.consumer, events[-1].event_id)
    return summary


def _forecast_origins(project):
    fg = project.get_feature_store().get_feature_group("forecasts", 1)
    df = fg.select(["zone", "origin"]).read().drop_duplicates()
    return sorted((z, o.isoformat()) for z, o in zip(df["zone"], df["origin"], strict=True))


def test_handler_is_registered_with_its_contract():
    h = _handler()
    assert h.kinds == ("commit", "model") and h.order == 40


def test_handler_forecasts_changed_zones_and_is_idempotent(ready, project, data, tmp_path):
    h = _handler()
    ctx = RunContext(project=project, zones=[], options={"outputs": tmp_path / "o"}, log=lambda s: None)
    summary = _deliver(project, h, ctx)
    assert summary == "forecasts: SE3 new, SE4 new"
    assert _forecast_origins(project) == [("SE3", "2024-03-22T09:00:00+00:00"), ("SE4", "2024-03-22T09:00:00+00:00")]
    assert (tmp_path / "o" / "forecast_SE4_2024-03-22.png").exists()
    assert _deliver(project, h, ctx) is None  # nothing pending

    # A new origin for SE3 only: only SE3 is forecast again.
    data.write_features(zones=("SE3",), origins=["2024-03-23"])
    assert _deliver(project, h, ctx) == "forecasts: SE3 new"
    assert ("SE3", "2024-03-23T09:00:00+00:00") in _forecast_origins(project)
    assert not any(o.startswith("2024-03-23") for z, o in _forecast_origins(project) if z == "SE4")

    # Re-delivering the same events (a crash before the ack) writes nothing new.
    log = project.get_event_log()
    before = log.latest_event_id()
    events = log.read(after=0, kinds=h.kinds)
    assert h.handle(events, ctx) == "forecasts: SE3 unchanged, SE4 unchanged"
    assert log.latest_event_id() == before


def test_new_model_reforecasts_every_zone_and_run_zones_limit_it(ready, project, data, tmp_path):
    h = _handler()
    ctx = RunContext(project=project, zones=["SE4"], options={"outputs": None}, log=lambda s: None)
    assert _deliver(project, h, ctx) == "forecasts: SE4 new"
    data.naive_model(spread=2.0)
    events = project.get_event_log().pending(CONSUMER, kinds=h.kinds)
    # Pending: serve's own forecasts commit (ignored) and the new model (every zone).
    assert [(e.kind, e.name) for e in events] == [("commit", "forecasts"), ("model", "price_naive")]
    assert zones_to_forecast(events[:1], project) == []
    assert zones_to_forecast(events, project) == ["SE3", "SE4"]
    assert _deliver(project, h, ctx) == "forecasts: SE4 new"


def test_zone_without_model_is_skipped_with_a_note(data, project):
    data.write_features(zones=("SE3",))
    notes = []
    ctx = RunContext(project=project, zones=[], options={"outputs": None}, log=notes.append)
    summary = _deliver(project, _handler(), ctx)
    assert summary == "skipped (no features or model yet): SE3"
    assert "spotcast-train fit --zone SE3" in notes[0]


def test_unrelated_and_unchanged_commits_concern_no_zone(ready, project, data):
    log = project.get_event_log()
    fg = project.get_feature_store().get_feature_group("price_features", 1)
    fg.insert(fg.read().head(10))  # same rows again: a commit that changed nothing
    unchanged = log.read(after=log.latest_event_id() - 1)
    assert unchanged[-1].name == "price_features" and not unchanged[-1].changed
    assert zones_to_forecast(unchanged, project) == []
    prices = [e for e in log.read() if e.name == "prices_hourly"]
    assert prices and zones_to_forecast(prices, project) == []
