"""Entry point of the serve stage into spotcast's plugin manager.

Adds the serve hookspecs, registers the built-in plugins exactly as a third-party plugin
would be registered, and plugs the forecast handler into `spotcast run`.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl

DEFAULT_PLUGINS: tuple[str, ...] = ("spotcast_serve.outputs",)


@hookimpl
def spotcast_addhooks(pluginmanager: Any) -> None:
    from spotcast_serve import hookspecs
    from spotcast_storage.plugins import add_stage_hooks

    add_stage_hooks(pluginmanager, hookspecs, DEFAULT_PLUGINS)


@hookimpl
def register_event_handlers(register: Any) -> None:
    from spotcast_serve.handler import serve_handlers

    for h in serve_handlers():
        register(h)


def plugin_manager() -> Any:
    """The process-wide plugin manager with the serve stage's hooks present (also when
    entry points are filtered or the package runs from a checkout)."""
    from spotcast_storage.plugins import stage_plugin_manager

    return stage_plugin_manager(__name__, "serve")
