"""Entry point of the train stage into spotcast's plugin manager.

Adds the ``register_models`` hookspec, registers the built-in models (xgboost, naive-daily,
naive-weekly) exactly as a third-party plugin would be registered, and plugs the retrain
policy into `spotcast run`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from spotcast_storage.hookspecs import hookimpl

DEFAULT_PLUGINS: tuple[str, ...] = (
    "spotcast_train.builtins.xgboost",
    "spotcast_train.builtins.naive",
)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_train import hookspecs

    pluginmanager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        if pluginmanager.get_plugin(name) is None and not pluginmanager.is_blocked(name):
            pluginmanager.register(importlib.import_module(name), name=name)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_storage.pipeline import EventHandler
    from spotcast_train.policy import CONSUMER, INPUT_NAMES, handle_events

    register(EventHandler(consumer=CONSUMER, names=INPUT_NAMES, handle=handle_events, order=30))


def plugin_manager() -> Any:
    """The process-wide plugin manager with the train stage's hooks present (also when entry
    points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import get_plugin_manager, register_once

    pm = get_plugin_manager()
    register_once(sys.modules[__name__], name="train")
    return pm
