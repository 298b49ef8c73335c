"""What "the same state" means for a store after `spotcast run`: every feature group's rows
(without wall-clock columns), the registered models' versions and metrics, and the cursors'
pending events. Used by the kill tests to compare an interrupted run with an uninterrupted one."""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_storage import get_storage
from spotcast_storage.local import connection

WALL_CLOCK_COLUMNS = {"created_at"}


def snapshot(path: Any) -> dict[str, Any]:
    project = get_storage(mode="local", path=path)
    fs = project.get_feature_store()
    out: dict[str, Any] = {}
    for g in fs.get_feature_groups():
        df = g.read()
        df = df.drop(columns=[c for c in df.columns if c in WALL_CLOCK_COLUMNS])
        out[f"{g.name}_v{g.version}"] = df.sort_values(list(g.primary_key), ignore_index=True)
    out["models"] = sorted((m.name, m.version, tuple(sorted(m.training_metrics.items())))
                           for m in project.get_model_registry().get_models())
    connection.release(path)
    return out


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        if isinstance(a[k], pd.DataFrame):
            pd.testing.assert_frame_equal(a[k], b[k], check_exact=False, rtol=1e-9, obj=k)
        else:
            assert a[k] == b[k], k
