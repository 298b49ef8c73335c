"""Entry point of the train stage into spotcast's plugin manager.

Adds the ``register_models`` hookspec, registers the built-in models (xgboost, naive-daily,
naive-weekly) exactly as a third-party plugin would be registered, and plugs the retrain
policy into `spotcast run`.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl

DEFAULT_PLUGINS: tuple[str, ...] = (
    "spotcast_train.builtins.xgboost",
    "spotcast_train.builtins.naive",
)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_storage.plugins import add_stage_hooks
    from spotcast_train import hookspecs

    add_stage_hooks(pluginmanager, hookspecs, DEFAULT_PLUGINS)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_storage.pipeline import EventHandler
    from spotcast_train.policy import CONSUMER, INPUT_NAMES, handle_events

    register(EventHandler(consumer=CONSUMER, names=INPUT_NAMES, handle=handle_events, order=30))


def plugin_manager() -> Any:
    """The process-wide plugin manager with the train stage's hooks present (also when entry
    points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import stage_plugin_manager

    return stage_plugin_manager(__name__, "train")
