"""`spotcast run`'s delivery loop with throwaway plugins: order, resume, idempotence."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from spotcast_storage import get_storage
from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.pipeline import EventHandler, PipelineStep, RunContext
from spotcast_storage.plugins import get_plugin_manager
from spotcast_storage.runner import deliver, run_once
from spotcast_storage.umbrella import app


def frame(days: int) -> pd.DataFrame:
    ts = pd.date_range("2024-01-01", periods=24 * days, freq="h", tz="UTC")
    return pd.DataFrame({"zone": "SE3", "ts": ts, "v": 1.0})


class Chain:
    """step writes `raw`; handler A copies raw -> `derived`; handler B counts derived."""

    def __init__(self, days: int = 1, fail_once: bool = False):
        self.days, self.fail_once, self.calls = days, fail_once, []

    def _fg(self, project, name):
        return project.get_feature_store().get_or_create_feature_group(name, version=1, primary_key=["zone", "ts"], event_time="ts")

    def step(self, ctx):
        self.options_seen = ctx.options
        c = self._fg(ctx.project, "raw").insert(frame(self.days))
        return f"+{c.rows_inserted}"

    def copy(self, events, ctx):
        self.calls.append(("copy", [e.event_id for e in events]))
        if self.fail_once:
            self.fail_once = False
            raise RuntimeError("boom")
        raw = self._fg(ctx.project, "raw").read()
        c = self._fg(ctx.project, "derived").insert(raw.assign(v=raw.v * 2))
        return f"copied {c.rows_inserted + c.rows_updated}"

    def count(self, events, ctx):
        self.calls.append(("count", [e.event_id for e in events]))
        return "counted"

    @hookimpl
    def register_pipeline_steps(self, register):
        register(PipelineStep("test-step", self.step, order=1))

    @hookimpl
    def register_event_handlers(self, register):
        register(EventHandler("test-count", self.count, names=("derived",), order=2))
        register(EventHandler("test-copy", self.copy, names=("raw",), order=1))


@pytest.fixture
def chain(monkeypatch):
    """Throwaway plugins; the installed stages' pipeline hooks are set aside (pluggy's
    subset_hook_caller) so only these run."""
    from spotcast_storage.plugins import DEFAULT_PLUGINS

    pm = get_plugin_manager()
    aside = [p for name, p in pm.list_name_plugin() if p is not None and name not in DEFAULT_PLUGINS]
    originals = {h: getattr(pm.hook, h) for h in ("register_pipeline_steps", "register_event_handlers")}
    plugins = []

    def make(**kw):
        c = Chain(**kw)
        pm.register(c, name=f"test-chain-{id(c)}")
        plugins.append(c)
        for hook in originals:
            monkeypatch.setattr(pm.hook, hook, originals[hook])
            monkeypatch.setattr(pm.hook, hook, pm.subset_hook_caller(hook, remove_plugins=aside))
        return c

    try:
        yield make
    finally:
        for c in plugins:
            pm.unregister(c)


def ctx_for(path, lines):
    return RunContext(project=get_storage(mode="local", path=path), zones=["SE3"], log=lines.append)


def test_events_flow_through_handlers_in_order_and_a_second_run_does_nothing(store_path, chain):
    c = chain()
    lines: list[str] = []
    report = run_once(ctx_for(store_path, lines))
    assert [d[0] for d in report.deliveries] == ["test-copy", "test-count"]
    assert any("test-copy: 1 new commit of raw, 24 rows (SE3)" in line for line in lines)
    lines.clear()
    report = run_once(ctx_for(store_path, lines))
    assert not report.did_something  # the step re-wrote identical rows: an unchanged event, acked silently
    assert [name for name, _ in c.calls] == ["copy", "count"]
    log = get_storage(mode="local", path=store_path).get_event_log()
    assert log.pending("test-copy", names=["raw"]) == []


def test_a_failed_handler_keeps_its_cursor_and_the_next_run_resumes(store_path, chain):
    c = chain(fail_once=True)
    with pytest.raises(RuntimeError, match="boom"):
        run_once(ctx_for(store_path, []))
    project = get_storage(mode="local", path=store_path)
    assert project.get_event_log().cursor("test-copy") == 0
    report = deliver(RunContext(project=project, zones=["SE3"], log=lambda m: None))
    assert [d[0] for d in report.deliveries] == ["test-copy", "test-count"]
    assert c.calls[0] == c.calls[1]  # the same events were offered again
    assert len(project.get_feature_store().get_feature_group("derived").read()) == 24


def test_run_and_status_commands(store_path, chain):
    chain(days=2)
    runner = CliRunner()
    r = runner.invoke(app, ["--store", str(store_path), "run", "--zone", "SE3"])
    assert r.exit_code == 0, r.output
    assert "test-step: +48" in r.stdout and "test-copy:" in r.stdout and "test-count:" in r.stdout
    r = runner.invoke(app, ["--store", str(store_path), "run", "--zone", "SE3"])
    assert "nothing new" in r.stdout
    r = runner.invoke(app, ["--store", str(store_path), "status", "--format", "json"])
    status = json.loads(r.stdout)
    consumers = {c["consumer"]: c for c in status["consumers"]}
    assert consumers["test-copy"]["pending_events"] == 0
    assert {g["feature_group"] for g in status["feature_groups"]} == {"raw v1", "derived v1"}
    r = runner.invoke(app, ["--store", str(store_path), "run", "--interval", "soon", "--watch"])
    assert r.exit_code == 2 and "--interval" in r.stderr  # a usage error


def test_every_run_option_is_settable_from_the_command_and_typed(store_path, chain):
    """Issue 16: the options steps and handlers read are one dataclass, each set by a flag."""
    from spotcast_storage.pipeline import RunOptions

    c = chain()
    r = CliRunner().invoke(app, ["--store", str(store_path), "run", "--zone", "SE3", "--days", "3",
                                 "--no-quality-gate", "--retrain-max-age-days", "9", "--retrain-accuracy-days", "21",
                                 "--retrain-min-tracked-days", "8", "--outputs", "none", "--history-days", "30",
                                 "--yes", "--no-recalibrate"])
    assert r.exit_code == 0, r.output
    o = c.options_seen
    assert isinstance(o, RunOptions)
    assert (o.days, o.quality_gate, o.retrain_max_age_days, o.retrain_accuracy_days, o.retrain_min_tracked_days,
            o.files, o.history_days, o.yes, o.recalibrate) == (3, False, 9, 21, 8, False, 30, True, False)
    assert RunOptions().recalibrate  # on unless told otherwise
    r = CliRunner().invoke(app, ["--store", str(store_path), "run", "--days", "0"])
    assert r.exit_code != 0 and "--days must be at least 1, got 0" in r.output


def test_run_options_from_a_dict_refuse_unknown_keys():
    from spotcast_storage.errors import ValidationError
    from spotcast_storage.pipeline import RunOptions

    assert RunOptions.from_dict({"outputs": None}).files is False
    assert RunContext(project=None, zones=[], options={"days": 2}).options.days == 2
    with pytest.raises(ValidationError, match=r"unknown run option\(s\) \['dayz'\]; known: .*days"):
        RunOptions.from_dict({"dayz": 2})


def test_events_and_status_count_the_same_pending_events(store_path, chain):
    """Issue 17 item 9: `events` showed test-copy's lag as every event after its cursor (here
    its own commit of `derived`, which it does not subscribe to) while `status` said 0."""
    from spotcast_storage.cli import app as store_app

    c = chain(days=2)
    runner = CliRunner()
    assert runner.invoke(app, ["--store", str(store_path), "run", "--zone", "SE3"]).exit_code == 0

    def counts() -> tuple[int, int, list[int]]:
        r = runner.invoke(app, ["--store", str(store_path), "status", "--format", "json"])
        status = {x["consumer"]: x["pending_events"] for x in json.loads(r.stdout)["consumers"]}
        r = runner.invoke(store_app, ["--store", str(store_path), "events"])
        assert r.exit_code == 0, r.output
        row = next(line for line in r.stdout.splitlines() if "test-copy" in line)
        shown = int(row.split("│")[3]) if "│" in row else int(row.split()[2])
        r = runner.invoke(store_app, ["--store", str(store_path), "events", "--consumer", "test-copy", "--format", "json"])
        return status["test-copy"], shown, [e["event_id"] for e in json.loads(r.stdout)]

    status, shown, listed = counts()
    log = get_storage(mode="local", path=store_path).get_event_log()
    assert log.latest_event_id() > log.cursor("test-copy")  # derived's commit came after the cursor
    assert (status, shown, listed) == (0, 0, [])
    c.step(RunContext(project=get_storage(mode="local", path=store_path), zones=["SE3"], log=lambda m: None))
    c.days = 3
    c.step(RunContext(project=get_storage(mode="local", path=store_path), zones=["SE3"], log=lambda m: None))
    status, shown, listed = counts()
    assert status == shown == len(listed) == 1  # the second step's new day (the first changed nothing)
