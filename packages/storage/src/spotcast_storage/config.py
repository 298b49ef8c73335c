"""Which store a command talks to: ``--store``/``SPOTCAST_STORE`` and ``--mode``/``HOPSWORKS_API_KEY``.

One rule for every CLI, the umbrella and Python callers: an explicit argument (``get_storage(path=...)``)
beats a command-line flag, a flag beats the environment, and the environment beats the default.
The CLIs' options therefore do not read the environment themselves (Typer's ``envvar`` would hand a
sub-command the environment's value as if it had been typed, overriding the umbrella's flag).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from spotcast_storage.errors import ValidationError

DEFAULT_STORE = Path(".spotcast") / "store.duckdb"
_SYNONYMS = {"production": "hopsworks", "prod": "hopsworks", "embedded": "local", "duckdb": "local"}
"""Other names of the built-in backends' modes. Every other mode is a registered backend's own
name (``register_backends``), so a third-party backend needs no edit here."""

# Process-wide defaults set once by a CLI's --store/--mode options.
_defaults: dict[str, Any] = {"path": None, "mode": None}
_announced = False


def modes() -> list[str]:
    """The modes of the registered backends (built-in: local, hopsworks)."""
    from spotcast_storage import backends

    return sorted(backends())


def normalise_mode(mode: str | None) -> str | None:
    """A registered backend's mode, from its name or a synonym (``production`` -> ``hopsworks``)."""
    if mode is None:
        return None
    m = _SYNONYMS.get(mode.strip().lower(), mode.strip().lower())
    known = modes()
    if m not in known:
        raise ValidationError(f"unknown mode {mode!r}: use one of the registered backends' modes, "
                              f"{', '.join(known)} (production is a synonym of hopsworks)")
    return m


def resolve_mode(mode: str | None = None) -> str:
    """``mode`` argument > ``--mode`` flag > ``SPOTCAST_MODE`` > hopsworks when HOPSWORKS_API_KEY is set > local."""
    m = normalise_mode(mode) or _defaults["mode"] or normalise_mode(os.environ.get("SPOTCAST_MODE"))
    if m:
        return m
    return "hopsworks" if os.environ.get("HOPSWORKS_API_KEY") else "local"


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` argument > ``--store`` flag > ``SPOTCAST_STORE`` > ``./.spotcast/store.duckdb``."""
    p = path or _defaults["path"] or os.environ.get("SPOTCAST_STORE") or DEFAULT_STORE
    return Path(p).expanduser()


def set_defaults(path: str | os.PathLike[str] | None = None, mode: str | None = None) -> None:
    """Used by CLI callbacks so every later ``get_storage()`` in the process uses these.

    Only flags actually given are passed here (None leaves an outer level's flag in place), so
    ``spotcast --store b ingest ...`` keeps b even when ``SPOTCAST_STORE`` names another file."""
    if path is not None:
        _defaults["path"] = Path(path)
    if mode is not None:
        _defaults["mode"] = normalise_mode(mode)


def reset_defaults() -> None:
    global _announced
    _defaults.update(path=None, mode=None)
    _announced = False


def announce(project: Any) -> None:
    """Print the chosen store once per process, to stderr (stdout may be JSON or CSV)."""
    global _announced
    if not _announced:
        _announced = True
        print(f"spotcast: using {project.describe()}", file=sys.stderr)


def outputs_dir(project: Any, outputs: str | os.PathLike[str] | None = None) -> Path:
    """The folder for the files a command writes (forecast CSV/PNG, accuracy charts, backtest
    reports): ``outputs`` (a command's ``--outputs``) when given, else the project's own folder
    beside its store (a local store ``x.duckdb`` writes to ``x-outputs/`` next to it, as its models
    live in ``x-artifacts/``), else ``./outputs``.

    One rule for every command, so two stores never overwrite each other's files: a forecast of
    ``demo.duckdb`` lands in ``demo-outputs/``, one of ``.spotcast/store.duckdb`` in
    ``.spotcast/store-outputs/``, even when both stores sit in the same folder."""
    if outputs is not None:
        return Path(outputs).expanduser()
    own = getattr(project, "outputs_dir", None)
    return Path(own) if own is not None else Path("outputs")
