"""The Hopsworks backend (production). Imports ``hopsworks`` only when it is used."""

from __future__ import annotations

import importlib.util
from typing import Any

from spotcast_storage.errors import BackendUnavailableError
from spotcast_storage.hookspecs import hookimpl


def _factory(path: Any = None, **options: Any) -> Any:
    if importlib.util.find_spec("hopsworks") is None:
        raise BackendUnavailableError(
            "mode hopsworks needs the Hopsworks client, which is not installed. Install the extra: "
            "`uv sync --extra hopsworks` in the spotcast checkout, or "
            "`pip install 'spotcast-storage[hopsworks]'`. To use the embedded store instead, pass "
            "--mode local (or unset HOPSWORKS_API_KEY)."
        )
    from spotcast_storage.hopsworks import connect

    return connect(path=path, **options)


@hookimpl
def register_backends(register: Any) -> None:
    register("hopsworks", _factory)
