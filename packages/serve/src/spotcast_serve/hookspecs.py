"""Hook specifications of the serve stage (added to spotcast's one plugin manager by
:mod:`spotcast_serve.plugin`, the way pytest's ``pytest_addhooks`` works)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotcast_storage.hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from spotcast_serve.outputs import OutputWriter


@hookspec
def register_forecast_outputs(register: Callable[[OutputWriter], None]) -> None:
    """Register writers of forecast files: ``register(OutputWriter(name, write))``; `predict`
    calls every writer (or those named by ``--formats``) with each new forecast."""


__all__ = ["hookimpl", "hookspec", "register_forecast_outputs"]
