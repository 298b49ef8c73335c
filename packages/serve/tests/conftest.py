"""Fixtures: a real DuckDB store in tmp_path with synthetic price_features, hourly actual
prices and a real registered model artifact (spotcast_storage.modelformat), written through
the storage API exactly as the features and train stages write them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import uvicorn

from spotcast_storage import config, get_storage
from spotcast_storage.local import connection

TZ = "Europe/Stockholm"
FIRST_DAY = "2024-03-01"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch):
    """No test sees the developer's SPOTCAST_* settings or a previous test's CLI defaults."""
    for var in ("SPOTCAST_STORE", "SPOTCAST_MODE", "HOPSWORKS_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SPOTCAST_LOAD_PLUGINS", "")
    config.reset_defaults()
    yield
    config.reset_defaults()


@pytest.fixture
def store_path(tmp_path: Path):
    path = tmp_path / "store.duckdb"
    yield path
    connection.release(path)


@pytest.fixture
def project(store_path: Path) -> Any:
    return get_storage(mode="local", path=store_path)


def hourly_prices(zone: str, start: str, days: int, seed: int = 0) -> pd.DataFrame:
    """Hourly prices over ``days`` local days from ``start`` (DST days have 23/25 hours)."""
    t0 = pd.Timestamp(start, tz=TZ)
    t1 = t0 + pd.DateOffset(days=days)
    ts = pd.date_range(t0.tz_convert("UTC"), t1.tz_convert("UTC"), freq="h", inclusive="left")
    rng = np.random.default_rng(seed + sum(map(ord, zone)))
    local_hour = ts.tz_convert(TZ).hour.to_numpy()
    price = 60 + 25 * np.sin((local_hour - 6) / 24 * 2 * np.pi) + rng.normal(0, 4, len(ts))
    return pd.DataFrame({"zone": zone, "ts": ts, "price_eur_mwh": price})


def known_at(ts: pd.Series) -> pd.Series:
    """13:00 local time on the day before each hour's local delivery day, UTC (the auction)."""
    day = pd.to_datetime(ts, utc=True).dt.tz_convert(TZ).dt.normalize()
    return (day - pd.Timedelta(days=1)).dt.tz_localize(None).add(pd.Timedelta(hours=13)).dt.tz_localize(TZ).dt.tz_convert("UTC")


def price_features(actuals: pd.DataFrame, origins_local_days: list[str], horizon_days: int = 7) -> pd.DataFrame:
    """price_features rows: per origin (10:00 local) the target hours of D+1..D+horizon with
    the same hour one week before as the naive feature (known at the origin)."""
    rows = []
    by_ts = actuals.set_index("ts")["price_eur_mwh"]
    zone = str(actuals["zone"].iloc[0])
    for day in origins_local_days:
        d = pd.Timestamp(day, tz=TZ)
        origin = (d + pd.Timedelta(hours=10)).tz_convert("UTC")
        start = (d + pd.DateOffset(days=1)).tz_convert("UTC")
        end = (d + pd.DateOffset(days=1 + horizon_days)).tz_convert("UTC")
        ts = pd.date_range(start, end, freq="h", inclusive="left")
        lag = by_ts.reindex(ts - pd.Timedelta(hours=168)).to_numpy()
        rows.append(pd.DataFrame({
            "zone": zone, "origin": origin, "ts": ts,
            "price_lag_7d": lag,
            "hour": ts.tz_convert(TZ).hour.astype("int64"),
        }))
    return pd.concat(rows, ignore_index=True)


class Data:
    """Builds stores the way the upstream stages fill them."""

    def __init__(self, project: Any, tmp_path: Path) -> None:
        self.project = project
        self.tmp_path = tmp_path

    def actuals(self, zones: tuple[str, ...] = ("SE3",), start: str = FIRST_DAY, days: int = 30,
                until: pd.Timestamp | None = None) -> pd.DataFrame:
        frames = [hourly_prices(z, start, days) for z in zones]
        df = pd.concat(frames, ignore_index=True)
        if until is not None:
            df = df[df["ts"] < until]
        return df

    def write_actuals(self, df: pd.DataFrame) -> None:
        """``prices_hourly`` as the features stage writes it: each hour known at 13:00 local the day before."""
        from spotcast_storage.contracts.features import PRICES_HOURLY

        fs = self.project.get_feature_store()
        PRICES_HOURLY.get_or_create(fs).insert(df.assign(known_at=known_at(df["ts"]), n_periods=1))

    def write_prices(self, df: pd.DataFrame, rate: float | pd.Series = 11.25, resolution_minutes: int = 60) -> None:
        """``prices`` as elprisetjustnu gives them: EUR and SEK per period (one EUR/SEK rate a day),
        rounded to 5 decimals of a kWh price like the real answers."""
        from spotcast_storage.contracts.market import PRICES

        eur = (df["price_eur_mwh"] / 1000).round(5)
        frame = df.assign(price_eur_mwh=eur * 1000, price_sek_kwh=(eur * rate).round(5),
                          resolution_minutes=resolution_minutes,
                          known_at=known_at(df["ts"]), source="elprisetjustnu")
        PRICES.get_or_create(self.project.get_feature_store()).insert(PRICES.conform(frame))

    def write_features(self, zones: tuple[str, ...] = ("SE3",), origins: list[str] | None = None,
                       days: int = 30) -> pd.DataFrame:
        origins = origins or ["2024-03-20"]
        frames = [price_features(hourly_prices(z, FIRST_DAY, days), origins) for z in zones]
        df = pd.concat(frames, ignore_index=True)
        fs = self.project.get_feature_store()
        fg = fs.get_or_create_feature_group("price_features", version=1, primary_key=["zone", "origin", "ts"],
                                            event_time="origin")
        fg.insert(df)
        return df

    def naive_model(self, name: str = "price_naive", spread: float = 8.0, zones: list[str] | None = None,
                    lineage: dict[str, Any] | None = None) -> Any:
        """A real artifact in spotcast's model format, registered in the store."""
        from spotcast_storage.boosted import ModelSpec, save_artifact

        spec = ModelSpec(kind="naive", features=["price_lag_7d"], naive_column="price_lag_7d",
                         residual_quantiles={"p10": -spread, "p90": spread})
        folder = save_artifact(self.tmp_path / f"artifact-{name}-{spread}", spec)
        lin = lineage if lineage is not None else {"feature_groups": [{"name": "price_features", "version": 1}]}
        if zones is not None:
            lin = {**lin, "zones": zones}
        mr = self.project.get_model_registry()
        return mr.python.create_model(name, metrics={"mae": spread}, description="test naive", lineage=lin).save(folder)

    def xgboost_model(self, name: str = "price_xgb") -> Any:
        """A tiny real XGBoost quantile model in spotcast's artifact format, registered."""
        import xgboost as xgb

        from spotcast_storage.boosted import Member, ModelSpec, save_artifact

        feats = self.project.get_feature_store().get_feature_group("price_features", 1).read()
        cols = ["price_lag_7d", "hour"]
        x = feats[cols].to_numpy(dtype="float32")
        y = feats["price_lag_7d"].to_numpy() + np.random.default_rng(1).normal(0, 3, len(feats))
        booster = xgb.train({"objective": "reg:quantileerror", "quantile_alpha": [0.1, 0.5, 0.9], "max_depth": 3,
                             "nthread": 1, "seed": 0}, xgb.DMatrix(x, label=y, feature_names=cols), num_boost_round=20)
        spec = ModelSpec(kind="xgboost", features=cols, members=[Member(file="member-00.ubj")])
        folder = save_artifact(self.tmp_path / f"artifact-{name}", spec, [booster])
        lineage = {"zones": ["SE3"], "feature_groups": [{"name": "price_features", "version": 1, "commit_id": 1}]}
        return self.project.get_model_registry().python.create_model(name, metrics={"mae": 3.0},
                                                                      lineage=lineage).save(folder)


@pytest.fixture
def data(project: Any, tmp_path: Path) -> Data:
    return Data(project, tmp_path)


@pytest.fixture
def ready(data: Data) -> Data:
    """Features for SE3 and SE4 (origins 2024-03-20..22), actuals through 2024-03-29 and a model."""
    data.write_features(zones=("SE3", "SE4"), origins=["2024-03-20", "2024-03-21", "2024-03-22"])
    data.write_actuals(data.actuals(zones=("SE3", "SE4"), days=29))
    data.naive_model()
    return data


HISTORY_ORIGINS = [d.date().isoformat() for d in pd.date_range("2024-03-08", "2024-03-27", freq="D")]
"""Twenty daily origins over four local weeks (from Monday 2024-03-04: 3, 7, 7 and 3 origins),
across the spring DST change of 2024-03-31."""


def forecast_every_origin(project: Any, zone: str) -> None:
    """Forecast each stored feature origin of ``zone`` with its serving model, as daily runs
    would have (each origin its own published vintage)."""
    from spotcast_serve import service

    feats = project.get_feature_store().get_feature_group("price_features", 1).read()
    ref = service.resolve_model(project, zone)
    pred = service.load_predictor(ref)
    for _origin, rows in feats[feats["zone"] == zone].groupby("origin"):
        service.forecast_origin(project, zone, rows.sort_values("ts", ignore_index=True), pred, ref)


def write_history(data: Data, project: Any) -> None:
    """SE3 and SE4 forecast at every origin of :data:`HISTORY_ORIGINS` and actual prices for every
    forecast hour (through 2024-04-04), written as daily runs would have."""
    data.write_features(zones=("SE3", "SE4"), origins=HISTORY_ORIGINS, days=35)
    data.write_actuals(data.actuals(zones=("SE3", "SE4"), days=35))
    data.naive_model()
    for zone in ("SE3", "SE4"):
        forecast_every_origin(project, zone)


@pytest.fixture(scope="session")
def history_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``history`` store, written once per test process: its 40 forecast commits took 3-5 s
    of every test that used it. Tests get a copy of the file (see ``history``), never this one."""
    folder = tmp_path_factory.mktemp("history-template")
    path = folder / "store.duckdb"
    with pytest.MonkeyPatch.context() as mp:  # as _isolated_config, which a session fixture precedes
        for var in ("SPOTCAST_STORE", "SPOTCAST_MODE", "HOPSWORKS_API_KEY"):
            mp.delenv(var, raising=False)
        mp.setenv("SPOTCAST_LOAD_PLUGINS", "")
        p = get_storage(mode="local", path=path)
        write_history(Data(p, folder), p)
        p.close()
        connection.release(path)
    return path


@pytest.fixture
def history(data: Data, project: Any, store_path: Path, history_template: Path) -> Data:
    """A store with a history (:func:`write_history`): this test's own copy of the file written
    once (``history_template``), so a test that writes (the accuracy SQL view, a forecast) changes
    only its copy. The registered model's artifact stays the template's (the registry records its
    absolute path): read, never written, by these tests."""
    import shutil

    assert not store_path.exists(), "history must be the first fixture to touch the store"
    for src in history_template.parent.glob(history_template.name + "*"):  # the file and a .wal, if any
        shutil.copy2(src, store_path.with_name(store_path.name + src.name[len(history_template.name):]))
    return data


def run_cli(args: list[str]) -> Any:
    from typer.testing import CliRunner

    from spotcast_serve.cli import app

    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture
def cli() -> Callable[[list[str]], Any]:
    return run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(store_path: Path):
    """A real uvicorn server (in a thread) over the store at ``store_path``; yields its URL."""
    from spotcast_serve.api import create_app

    connection.release(store_path)
    port = _free_port()
    app = create_app(project=get_storage(mode="local", path=store_path), cache_max_age=1.0)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)
    connection.release(store_path)


@pytest.fixture
def server(ready, project, store_path):
    """A real uvicorn server over the ``ready`` store, SE3 forecasted; its URL."""
    from spotcast_serve import service

    service.predict(project, "SE3", outputs=None)
    yield from _serve(store_path)


@pytest.fixture
def history_server(history, store_path):
    """A real uvicorn server over the ``history`` store (SE3 and SE4, four weeks of scored
    forecasts); its URL."""
    yield from _serve(store_path)


QUARTERS_FROM = pd.Timestamp("2024-03-22T23:00Z")  # 2024-03-23 00:00 CET: SE3 clears in 15 minutes


def quarter_prices(hourly: pd.DataFrame) -> pd.DataFrame:
    """Four 15-minute prices per hour of ``hourly`` (zone, ts, price_eur_mwh), moving inside the hour."""
    starts = pd.DatetimeIndex(hourly["ts"]).repeat(4) + pd.to_timedelta(np.tile(np.arange(4) * 15, len(hourly)), unit="min")
    return pd.DataFrame({"zone": np.repeat(hourly["zone"].to_numpy(), 4), "ts": starts,
                         "price_eur_mwh": np.repeat(hourly["price_eur_mwh"].to_numpy(), 4)
                         + np.tile([-6.0, -2.0, 2.0, 6.0], len(hourly))})


@pytest.fixture
def quarter_store(ready, data):
    """``ready`` with SE3's ``prices``: hourly before QUARTERS_FROM, 15-minute from there on."""
    hourly = data.actuals(zones=("SE3",), days=29)
    data.write_prices(hourly[hourly["ts"] < QUARTERS_FROM])
    data.write_prices(quarter_prices(hourly[hourly["ts"] >= QUARTERS_FROM]), resolution_minutes=15)
    return data
