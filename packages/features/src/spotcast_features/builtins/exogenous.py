"""Known-in-advance series (load, wind and solar forecasts) at the target hour."""

from __future__ import annotations

from typing import Any

import pandas as pd

from spotcast_features.transform import OriginBatch, Transformation, contract_columns
from spotcast_storage.contracts.features import EXO_SERIES
from spotcast_storage.hookspecs import hookimpl


def exogenous_features(batch: OriginBatch) -> pd.DataFrame:
    """One column per series in :data:`EXO_SERIES`: the newest value issued by the origin, null
    when the series is absent for the hour."""
    t = batch.targets[["origin", "ts"]]
    e = batch.exogenous
    e = e[e["series"].isin(EXO_SERIES)]
    wide = e.pivot(index=["origin", "ts"], columns="series", values="value") if not e.empty else None
    out = batch.frame()
    for s in EXO_SERIES:
        if wide is None or s not in wide.columns:
            out[f"exo_{s}"] = float("nan")
        else:
            col = wide[s].rename("v").reset_index()
            out[f"exo_{s}"] = t.merge(col, on=["origin", "ts"], how="left")["v"].to_numpy(dtype="float64")
    return out


EXOGENOUS = Transformation(
    name="exogenous",
    columns=contract_columns(*(f"exo_{s}" for s in EXO_SERIES)),
    compute=exogenous_features,
    description="load/wind/solar forecasts at ts, newest issued by the origin; null when absent",
    order=40,
)


@hookimpl
def register_features(register: Any) -> None:
    register(EXOGENOUS)
