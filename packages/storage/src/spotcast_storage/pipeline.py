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
from spotcast_storage.runoptions import RunOptions


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
