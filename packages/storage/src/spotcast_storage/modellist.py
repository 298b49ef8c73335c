"""The one listing of registered models that every ``models`` command prints
(``spotcast-store models``, ``spotcast-train models``, ``spotcast-serve models``), so the three
show the same columns in the same order, newest first, whichever stage's CLI a user reaches for."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from spotcast_storage.lineage import Lineage
from spotcast_storage.promotion import model_type, model_zones, record_of
from spotcast_storage.text import format_metrics, iso

if TYPE_CHECKING:
    import pandas as pd

    from spotcast_storage.protocols import Model, Project

COLUMNS = ["name", "version", "created", "zones", "model_type", "decision", "metrics", "trained_on"]


def trained_on(model: Model) -> str:
    """``price_features v1@42``: the feature groups, versions and commits a model was trained on
    (from its lineage), as one short text."""
    return Lineage.of(model).trained_on()


def models_table(project: Project, *, name: str | None = None, zone: str | None = None,
                 for_people: bool = True) -> pd.DataFrame:
    """Registered models, newest first. For people (``--format table``) metrics read
    ``mae 11.78, rmae 0.83``; for programs the exact metrics and the full lineage are objects
    (JSON), and times are ISO 8601 either way."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    models = project.get_model_registry().get_models(name) if name else project.get_model_registry().get_models()
    for m in sorted(models, key=lambda m: (m.created, m.version), reverse=True):
        zones = model_zones(m)
        if zone is not None and zone.upper() not in zones:
            continue
        rec = record_of(m) or {}
        row = {"name": m.name, "version": m.version, "created": iso(m.created), "zones": ",".join(zones) or "any",
               "model_type": model_type(m), "decision": rec.get("decision", ""),
               "metrics": format_metrics(m.training_metrics) if for_people else dict(m.training_metrics or {}),
               "trained_on": trained_on(m)}
        if not for_people:
            row["lineage"] = json.loads(json.dumps(m.lineage or {}, default=str))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS if for_people else [*COLUMNS, "lineage"])
