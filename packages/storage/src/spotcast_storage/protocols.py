"""The storage API as types: what every backend provides and stages may rely on.

Stages are written against these Protocols, not against a backend's classes; both built-in
backends implement them (``packages/storage/tests/test_protocols.py`` checks every member of
every Protocol exists on both backends' classes with the same parameters). A new backend is a
set of classes that satisfy them plus a ``register_backends`` plugin; subclassing the base
classes of :mod:`spotcast_storage.base` gives it everything but the storage itself (their
abstract methods).

Capabilities a backend may lack are data, not a mode test: ``sql_dialect`` is the SQL dialect
``sql`` and ``create_sql_view`` accept (``"duckdb"`` locally, None on Hopsworks: no SQL a stage
may run); ``reader()`` and ``change_token()`` are optional (``getattr``) and used when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from spotcast_storage.base import Commit
    from spotcast_storage.query import Feature


@runtime_checkable
class FeatureGroup(Protocol):
    name: str
    version: int
    primary_key: list[str]
    event_time: str | None

    def __getitem__(self, name: str) -> Feature:
        """A feature to filter on, as the Hopsworks client has it: ``fg["zone"] == "SE3"``."""

    def insert(self, df: pd.DataFrame, overwrite: bool = False, **kwargs: Any) -> Commit: ...

    def read(self, start_time: Any = None, end_time: Any = None, **kwargs: Any) -> pd.DataFrame: ...

    def select(self, features: Sequence[Any]) -> Any: ...

    def filter(self, f: Any) -> Any: ...

    def as_of(self, wallclock_time: Any = None, *, commit_id: int | None = None) -> Any: ...

    def commit_details(self, wallclock_time: Any = None, limit: int | None = None) -> dict[int, dict[str, Any]]: ...


@runtime_checkable
class FeatureView(Protocol):
    name: str
    version: int

    def get_batch_data(self, start_time: Any = None, end_time: Any = None, **kw: Any) -> pd.DataFrame: ...

    def training_data(self, start_time: Any = None, end_time: Any = None, **kw: Any) -> tuple[Any, Any]: ...


@runtime_checkable
class FeatureStore(Protocol):
    def get_feature_group(self, name: str, version: int | None = None) -> FeatureGroup: ...

    def get_feature_groups(self, name: str | None = None) -> list[Any]: ...

    def get_or_create_feature_group(self, name: str, version: int | None = None, *args: Any,
                                    **kwargs: Any) -> FeatureGroup: ...

    def get_feature_view(self, name: str, version: int | None = None) -> FeatureView: ...

    def get_or_create_feature_view(self, name: str, version: int | None = None, *args: Any,
                                   **kwargs: Any) -> FeatureView: ...


@runtime_checkable
class Model(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int | None:
        """None until the model is saved (registered)."""

    @property
    def description(self) -> str: ...

    @property
    def created(self) -> Any:
        """When the model was registered (a UTC ``pd.Timestamp``; None until saved)."""

    @property
    def lineage(self) -> dict[str, Any]: ...

    @property
    def extra(self) -> dict[str, Any]: ...

    @property
    def training_metrics(self) -> dict[str, Any]: ...

    def save(self, model_path: Any) -> Model: ...

    def download(self, local_path: Any = None) -> str: ...


@runtime_checkable
class ModelFactory(Protocol):
    """``registry.python``: where a stage creates the model it then saves (as in the Hopsworks
    client, whose ``.sklearn``, ``.tensorflow`` and ``.torch`` are the same here)."""

    def create_model(self, name: str, metrics: dict[str, Any] | None = None, description: str = "",
                     input_example: Any = None, model_schema: Any = None, feature_view: Any = None,
                     training_dataset_version: int | None = None, lineage: dict[str, Any] | None = None,
                     **extra: Any) -> Model: ...


@runtime_checkable
class ModelRegistry(Protocol):
    @property
    def python(self) -> ModelFactory: ...

    def get_model(self, name: str, version: int | None = None) -> Model: ...

    def get_models(self, name: str | None = None) -> Sequence[Model]: ...

    def get_best_model(self, name: str, metric: str, direction: str) -> Model | None: ...


@runtime_checkable
class Project(Protocol):
    @property
    def mode(self) -> str: ...

    @property
    def sql_dialect(self) -> str | None: ...

    def describe(self) -> str: ...

    def get_feature_store(self, name: str | None = None) -> FeatureStore: ...

    def get_model_registry(self) -> ModelRegistry: ...

    def get_event_log(self) -> Any: ...

    def sql(self, query: str, params: Sequence[Any] | None = None, timeout: float | None = None) -> pd.DataFrame: ...

    def create_sql_view(self, name: str, sql: str) -> None: ...

    def close(self) -> None: ...


PROTOCOLS = (Project, FeatureStore, FeatureGroup, FeatureView, ModelRegistry, ModelFactory, Model)


def members(proto: type) -> list[str]:
    """The names a Protocol declares (attributes, properties and methods)."""
    names: list[str] = []
    for klass in proto.__mro__:
        if klass in (Protocol, object) or not getattr(klass, "_is_protocol", False):
            continue
        names += list(getattr(klass, "__annotations__", {}))
        names += [n for n, v in vars(klass).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))]
    return list(dict.fromkeys(names))


def conformance(obj: Any, proto: type) -> list[str]:
    """What ``obj`` lacks to implement ``proto``: a missing member, or a method that does not take
    a parameter the Protocol's method has (by name). Empty when it conforms."""
    import inspect

    problems = []
    for name in members(proto):
        if not hasattr(obj, name):
            problems.append(f"{type(obj).__name__} lacks {name}")
            continue
        want = getattr(proto, name, None)
        if not inspect.isfunction(want):
            continue
        have = getattr(obj, name)
        try:
            got = inspect.signature(have).parameters
        except (TypeError, ValueError):
            continue
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in got.values())
        for pname, p in list(inspect.signature(want).parameters.items())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if pname not in got and not takes_kwargs:
                problems.append(f"{type(obj).__name__}.{name} does not take {pname!r}")
    return problems
