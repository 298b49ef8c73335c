"""spotcast's own model kinds, registered through ``register_model_formats`` like any plugin's.

``xgboost`` (boosted trees, optionally blended with linear members), ``linear`` (gblinear
members alone) and ``naive`` (a lagged price with a residual band) are all read by
:func:`spotcast_storage.modelformat.load_spotcast_model`; xgboost is imported only when an
artifact holds boosters.
"""

from __future__ import annotations

from typing import Any

from spotcast_storage.hookspecs import hookimpl

KINDS = ("xgboost", "linear", "naive")


@hookimpl
def register_model_formats(register: Any) -> None:
    from spotcast_storage.boosted import load_spotcast_model

    for kind in KINDS:
        register(kind, load_spotcast_model)
