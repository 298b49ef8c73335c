"""Hook specifications of the train stage (added to spotcast's one plugin manager by
:mod:`spotcast_train.plugin`, the way pytest's ``pytest_addhooks`` works)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotcast_storage.hookspecs import hookspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from spotcast_train.models import ModelType


@hookspec
def register_models(register: Callable[[ModelType], None]) -> None:
    """Register model types: ``register(ModelType(name, description, fit))``; ``fit(request)``
    gets a :class:`~spotcast_train.models.FitRequest` (rows known at the origin only) and returns
    a :class:`spotcast_storage.modelformat.ModelPredictor` that serve can load once it is saved
    (its kind registered through ``register_model_formats``)."""
