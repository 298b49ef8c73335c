"""Entry point of the ingest stage into spotcast's plugin manager.

Adds the ``register_sources`` hookspec, registers the built-in sources (each a plugin module,
registered exactly as a third-party one would be) and the ``ingest`` pipeline step of
`spotcast run`.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.pipeline import PipelineStep, RunContext

DEFAULT_PLUGINS: tuple[str, ...] = (
    "spotcast_ingest.sources.elprisetjustnu",
    "spotcast_ingest.sources.openmeteo",
    "spotcast_ingest.sources.energidataservice",
    "spotcast_ingest.sources.entsoe",
    "spotcast_ingest.sources.csvfile",
    "spotcast_ingest.sources.synthetic",
)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_ingest import hookspecs
    from spotcast_storage.plugins import add_stage_hooks

    add_stage_hooks(pluginmanager, hookspecs, DEFAULT_PLUGINS)


def run_step(ctx: RunContext) -> str:
    """`spotcast run`'s first step: bring every zone up to date (see :func:`spotcast_ingest.ingest.update`)."""
    from spotcast_ingest.ingest import update

    report = update(
        ctx.project, ctx.zones, sources=ctx.sources, now=ctx.now,
        history_days=ctx.options.history_days, base_urls=ctx.options.base_urls,
        log=ctx.log, yes=ctx.options.yes, quality_gate=ctx.options.quality_gate,
    )
    return report.one_line()


@hookimpl
def register_pipeline_steps(register: Any) -> None:
    register(PipelineStep(name="ingest", run=run_step, order=10))
