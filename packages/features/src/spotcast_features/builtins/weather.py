"""Weather at the target hour: the newest forecast issued by the origin, else observed persistence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotcast_features.transform import OriginBatch, Transformation, contract_columns
from spotcast_storage.contracts.features import WEATHER_VARIABLES
from spotcast_storage.hookspecs import hookimpl


def weather_features(batch: OriginBatch) -> pd.DataFrame:
    """Where no forecast issued by the origin covers a target hour (history before forecasts
    were archived), stand in the newest observation of the same local hour before the origin,
    flagged by ``wx_is_observed``. The observation at the target hour itself would be a
    perfect weather forecast the model never gets in production, so it is not used."""
    t = batch.targets[["origin", "ts", "local_hour"]]
    cols = list(WEATHER_VARIABLES)
    fc = t.merge(batch.forecasts[["origin", "ts", *cols]].assign(_fc=True), on=["origin", "ts"], how="left")
    obs = (batch.observations.sort_values(["origin", "ts"], kind="stable")
           .drop_duplicates(["origin", "local_hour"], keep="last"))
    ob = t.merge(obs[["origin", "local_hour", *cols]].assign(_ob=True), on=["origin", "local_hour"], how="left")
    has_fc = fc["_fc"].notna().to_numpy()
    has_ob = ob["_ob"].notna().to_numpy()
    out = batch.frame(**{
        f"wx_{c}": np.where(has_fc, fc[c].to_numpy(dtype="float64"), ob[c].to_numpy(dtype="float64"))
        for c in cols
    })
    out["wx_is_observed"] = (~has_fc & has_ob).astype("int64")
    return out


WEATHER = Transformation(
    name="weather",
    columns=contract_columns(*(f"wx_{c}" for c in WEATHER_VARIABLES), "wx_is_observed"),
    compute=weather_features,
    description="weather at ts from the newest forecast issued by the origin (observed persistence, flagged, where none)",
    order=30,
)


@hookimpl
def register_features(register: Any) -> None:
    register(WEATHER)
