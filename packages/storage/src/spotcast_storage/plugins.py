"""One plugin manager for all of spotcast.

Built-in implementations (the local DuckDB backend, the Hopsworks backend, each stage's
sources, features, models and handlers) register through the same door as third-party
plugins: a module with ``@hookimpl`` functions. Stages are found through the ``spotcast``
entry-point group, so a stage that is not installed contributes nothing.

Set ``SPOTCAST_LOAD_PLUGINS`` to a comma-separated list of entry-point names to load only
those third-party plugins (an empty string loads none); spotcast's own packages always load.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from spotcast_storage import hookspecs

PROJECT_NAME = "spotcast"
ENTRY_POINT_GROUP = "spotcast"
CLI_ENTRY_POINT_GROUP = "spotcast.cli"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "spotcast_storage.local.backend",
    "spotcast_storage.hopsworks_backend",
    "spotcast_storage.model_kinds",
)

_pm: pluggy.PluginManager | None = None
_distributions: dict[str, str] = {}
_broken: dict[str, str] = {}
_lock = threading.RLock()


def _own_distribution(ep: Any) -> bool:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", "") or ""
    return name.replace("_", "-").startswith("spotcast")


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading built-ins and entry points once."""
    global _pm
    with _lock:
        if _pm is not None:
            return _pm
        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        # Make spotcast_addhooks historic calls reach every plugin registered later.
        pm.hook.spotcast_addhooks.call_historic(kwargs={"pluginmanager": pm})
        for name in DEFAULT_PLUGINS:
            pm.register(importlib.import_module(name), name=name)
        _pm = pm
        _load_entry_points(pm)
        return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    allowed_env = os.environ.get("SPOTCAST_LOAD_PLUGINS")
    allowed = None if allowed_env is None else {s.strip() for s in allowed_env.split(",") if s.strip()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        if allowed is not None and not _own_distribution(ep) and ep.name not in allowed:
            continue
        plugin = None
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # one broken plugin must not take every command down
            if plugin is not None and pm.is_registered(plugin):
                pm.unregister(plugin)
            _broken[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"spotcast plugin {ep.name!r} failed to load and is skipped: {exc}", stacklevel=2)
            continue
        dist = getattr(ep, "dist", None)
        if dist is not None:
            _distributions[ep.name] = dist.name


def register_once(plugin: ModuleType | object, name: str | None = None) -> None:
    """Register ``plugin`` unless it already is (stages call this so they work even when
    entry points are filtered or the package runs from a source checkout)."""
    pm = get_plugin_manager()
    with _lock:
        if not pm.is_registered(plugin) and (name is None or pm.get_plugin(name) is None):
            pm.register(plugin, name=name)


def add_stage_hooks(pluginmanager: pluggy.PluginManager, hookspecs_module: ModuleType,
                    default_plugins: tuple[str, ...]) -> None:
    """What a stage's ``spotcast_addhooks`` does: add the stage's hookspecs, then register its
    built-in plugin modules exactly as a third-party plugin would be registered (a name that a
    user blocked with ``pm.set_blocked`` stays out)."""
    pluginmanager.add_hookspecs(hookspecs_module)
    for name in default_plugins:
        if pluginmanager.get_plugin(name) is None and not pluginmanager.is_blocked(name):
            pluginmanager.register(importlib.import_module(name), name=name)


def stage_plugin_manager(plugin_module: str, name: str) -> pluggy.PluginManager:
    """The plugin manager with a stage's hooks present, also when entry points are filtered
    or the stage runs from a source checkout without being installed."""
    import sys

    pm = get_plugin_manager()
    register_once(sys.modules[plugin_module] if plugin_module in sys.modules else importlib.import_module(plugin_module),
                  name=name)
    return pm


@dataclass(frozen=True)
class PluginInfo:
    name: str
    hooks: tuple[str, ...]
    distribution: str | None


def list_plugins() -> list[PluginInfo]:
    """Describe every registered plugin (for `spotcast-store plugins`)."""
    pm = get_plugin_manager()
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or []))
        out.append(PluginInfo(name=name, hooks=hooks, distribution=_distributions.get(name, "built-in" if name in DEFAULT_PLUGINS else None)))
    out += [PluginInfo(name=name, hooks=(f"BROKEN: {err}",), distribution=None) for name, err in _broken.items()]
    return sorted(out, key=lambda p: p.name)
