"""The hooks: register_sources (built-ins and a third-party plugin) and the pipeline step."""

import datetime as dt
import sys
import types

import pandas as pd
import pytest

from spotcast_ingest import frames, plugin, timeutil
from spotcast_ingest.ingest import backfill
from spotcast_ingest.registry import source_classes
from spotcast_ingest.source import FetchResult, Source
from spotcast_storage.errors import ValidationError
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.pipeline import RunContext, collect_steps
from spotcast_storage.plugins import get_plugin_manager

NOW = pd.Timestamp("2025-06-10 12:00", tz="UTC")


def test_every_built_in_source_is_a_registered_plugin_module():
    classes = source_classes()
    assert set(classes) == {"elprisetjustnu", "open-meteo", "energidataservice", "entsoe", "csv", "synthetic"}
    pm = get_plugin_manager()
    for module in plugin.DEFAULT_PLUGINS:
        registered = pm.get_plugin(module)
        assert registered is sys.modules[module]
        assert "register_sources" in {h.name for h in pm.get_hookcallers(registered)}


class Flat(Source):
    """A third-party source: a constant price, any Nordic zone."""

    name = "flat"
    writes = ("prices",)
    network = False

    def fetch(self, request):
        tz = self.tz(request.zone)
        ts = timeutil.periods(request.start, request.end, tz)
        return FetchResult({"prices": frames.prices_frame(request.zone, ts, [42.0] * len(ts), None, 60, self.name, tz)})


def test_a_third_party_source_plugs_in_like_the_built_ins(project, stored):
    mod = types.ModuleType("spotcast_flat_plugin")
    mod.register_sources = hookimpl(lambda register: register(Flat))
    pm = get_plugin_manager()
    pm.register(mod, name="flat-plugin")
    try:
        assert source_classes()["flat"] is Flat
        backfill(project, "flat", ["SE2"], "2025-01-01", "2025-01-02", now=NOW)
        assert stored("prices")["price_eur_mwh"].eq(42.0).all() and len(stored("prices")) == 48
    finally:
        pm.unregister(name="flat-plugin")
    assert "flat" not in source_classes()


def test_two_plugins_with_one_source_name_are_refused():
    class Clash(Flat):
        name = "synthetic"

    mod = types.ModuleType("clash")
    mod.register_sources = hookimpl(lambda register: register(Clash))
    pm = get_plugin_manager()
    pm.register(mod, name="clash-plugin")
    try:
        with pytest.raises(ValidationError, match="two plugins register a source named 'synthetic'"):
            source_classes()
    finally:
        pm.unregister(name="clash-plugin")


def test_a_source_returning_rows_of_another_zone_is_refused(project, stored):
    class Wrong(Flat):
        name = "wrong"

        def fetch(self, request):
            got = super().fetch(request)
            got.frames["prices"]["zone"] = "SE1"
            return got

    mod = types.ModuleType("wrong")
    mod.register_sources = hookimpl(lambda register: register(Wrong))
    pm = get_plugin_manager()
    pm.register(mod, name="wrong-plugin")
    try:
        with pytest.raises(Exception, match=r"rows for zone\(s\) \['SE1'\] in a batch for SE2"):
            backfill(project, "wrong", ["SE2"], "2025-01-01", "2025-01-01", now=NOW)
    finally:
        pm.unregister(name="wrong-plugin")
    assert stored() == []


def test_the_ingest_pipeline_step_updates_the_run_zones(project, stored):
    plugin_step = [s for s in collect_steps() if s.name == "ingest"]
    assert len(plugin_step) == 1 and plugin_step[0].order == 10
    logged = []
    ctx = RunContext(project=project, zones=["SE3", "SE4"], sources=["synthetic"], now=NOW,
                     options={"history_days": 3}, log=logged.append)
    summary = plugin_step[0].run(ctx)
    assert "prices: +" in summary and "0 requests" in summary
    prices = stored("prices")
    assert set(prices["zone"]) == {"SE3", "SE4"}
    days = prices["ts"].dt.tz_convert("Europe/Stockholm").dt.date
    assert days.min() == dt.date(2025, 6, 7) and days.max() == dt.date(2025, 6, 11)
    # the same run again: nothing new
    again = plugin_step[0].run(ctx)
    assert again.startswith("nothing new")
