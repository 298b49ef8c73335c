"""What stages plug into `spotcast run`: steps that fetch new data, and event handlers.

A stage's plugin module implements the hooks ``register_pipeline_steps`` and
``register_event_handlers`` (see :mod:`spotcast_storage.hookspecs`) and calls ``register``
with the objects below. `spotcast run` (in :mod:`spotcast_storage.umbrella`) runs the steps
in ``order``, then delivers pending events to each handler after its durable cursor until
nothing is pending, acknowledging an event only after its handler returned. Handlers must
be idempotent: after a crash they see the same events again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spotcast_storage.events import Event


@dataclass
class RunOptions:
    """Every option a `spotcast run` step or handler reads: one typed place instead of a free
    dict read in three packages. Each field but the last two is a `spotcast run` option."""

    yes: bool = False
    """ingest: go ahead with a backfill larger than the confirmation limit (``--yes``)"""
    history_days: int | None = None
    """ingest: history an empty store backfills first (``--history-days``)"""
    quality_gate: bool = True
    """ingest: check each day's prices before they are stored (``--no-quality-gate`` to skip)"""
    files: bool = True
    """serve: write forecast files (``--outputs none``: no files)"""
    outputs: str | None = None
    """serve: the folder for them (``--outputs DIR``; default beside the store)"""
    days: int = 7
    """serve: local days forecast after the origin's day (``--days``)"""
    retrain_max_age_days: int = 7
    """train: retrain a model whose newest training origin is older than this (``--retrain-max-age-days``)"""
    retrain_accuracy_days: int = 14
    """train: the tracked-accuracy window (``--retrain-accuracy-days``)"""
    retrain_min_tracked_days: int = 7
    """train: days of tracked forecasts a retrain on accuracy needs (``--retrain-min-tracked-days``)"""
    train_model_options: dict[str, Any] | None = None
    """train: model settings for the fit (Python only: settings objects, e.g. in tests)"""
    base_urls: dict[str, str] | None = None
    """ingest: sources' base URLs (Python only; the command reads SPOTCAST_<SOURCE>_BASE_URL)"""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunOptions:
        """The options of a plain dict (as plugins and older callers pass them); an unknown key is
        an error naming the known ones. ``outputs=None`` means no files, as `--outputs none`."""
        from dataclasses import fields

        from spotcast_storage.errors import ValidationError

        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValidationError(f"unknown run option(s) {unknown}; known: {', '.join(sorted(known))}")
        d = dict(d)
        if "outputs" in d and d["outputs"] is None:
            d["files"] = False
        if d.get("outputs") is not None:
            d["outputs"] = str(d["outputs"])
        return cls(**d)


@dataclass
class RunContext:
    """What a step or handler knows about the current run."""

    project: Any
    zones: list[str]
    sources: list[str] | None = None
    now: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    options: RunOptions = field(default_factory=RunOptions)
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        if isinstance(self.options, dict):
            self.options = RunOptions.from_dict(self.options)


@dataclass(frozen=True)
class PipelineStep:
    """Work done at the start of every run (e.g. the ingest update). Returns a one-line summary."""

    name: str
    run: Callable[[RunContext], str | None]
    order: int = 100


@dataclass(frozen=True)
class EventHandler:
    """Reacts to events of ``kinds`` whose ``name`` is in ``names`` (all names when empty).

    ``consumer`` names the durable cursor. ``handle`` gets every pending matching event at
    once (so it can coalesce them) and returns a one-line summary of what it did, or None
    when it decided there was nothing to do.
    """

    consumer: str
    handle: Callable[[list[Event], RunContext], str | None]
    kinds: tuple[str, ...] = ("commit",)
    names: tuple[str, ...] = ()
    order: int = 100


def collect_steps() -> list[PipelineStep]:
    from spotcast_storage.plugins import get_plugin_manager

    steps: list[PipelineStep] = []
    get_plugin_manager().hook.register_pipeline_steps(register=steps.append)
    return sorted(steps, key=lambda s: (s.order, s.name))


def collect_handlers() -> list[EventHandler]:
    from spotcast_storage.plugins import get_plugin_manager

    handlers: list[EventHandler] = []
    get_plugin_manager().hook.register_event_handlers(register=handlers.append)
    return sorted(handlers, key=lambda h: (h.order, h.consumer))


def pending_changes(log: Any, handler: EventHandler, after: int) -> list[Event]:
    """The events after ``after`` that ``handler`` would be given by `spotcast run`: of its
    kinds and names, and changed. `status` and `spotcast-store events` both count these, so
    the two agree; events the consumer does not subscribe to (its own commits, say) are no lag."""
    return [e for e in log.read(after=after, kinds=handler.kinds, names=handler.names or None) if e.changed]
