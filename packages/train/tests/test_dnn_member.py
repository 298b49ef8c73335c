"""DNN members in the stage's default model (issue 14): the NumPy forward pass equals scikit-learn's
``MLPRegressor.predict``; the point forecast on horizon day 1 is the three-way blend of trees, linear
and DNN members; a registered artifact serves without scikit-learn; artifacts without a DNN are
written and read exactly as before (version-3 readers load them); bad weights, a missing extra and
damaged ``.npy`` files are clear errors that write nothing; no leakage."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spotcast_storage import boosted
from spotcast_storage.boosted import DnnNetwork, blend_parts, fill_missing_hour, lear_design
from spotcast_storage.errors import NotFoundError, ValidationError
from spotcast_storage.modelformat import METADATA_FILE, load_predictor
from spotcast_train.dnn import DnnModel
from spotcast_train.dnnpart import (
    DnnPartSettings,
    DnnSettings,
    dnn_options,
    fit_dnn_part,
    fitted_nets,
)
from spotcast_train.linear import LinearSettings, default_sources
from spotcast_train.xgbmodel import XGBSettings, fit_xgb

from .test_linear import LIN, TARGET, TREES, _frame

TINY = DnnPartSettings(network=DnnSettings(hidden=(8, 4), seeds=(0,), max_epochs=30, patience=5, window_days=56),
                       weight=0.25)
"""Small enough to fit in a fraction of a second; real enough to move the forecast."""
FEATURES = ["hour", "weekday", "price_lag_1d", "price_lag_7d", "last_day_mean"]
DATA = Path(__file__).parent / "data"


def _fit(frame: pd.DataFrame, origin: pd.Timestamp, settings: XGBSettings) -> boosted.Predictor:
    return fit_xgb(frame[frame["label_known_at"] <= origin], FEATURES, TARGET, "origin", settings, until=origin)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_the_numpy_forward_pass_is_scikit_learns_predict(activation):
    f = _frame()
    train = f[f["horizon_day"] == 1]
    _, D, Y = lear_design(train, default_sources(train), target=TARGET)
    ok = np.isfinite(D).all(axis=1) & np.isfinite(Y).all(axis=1)
    net = TINY.network.with_(seeds=(0, 1), activation=activation)
    model = DnnModel(settings=net).fit(D[ok], Y[ok])
    stored = fitted_nets(model)
    from spotcast_train.lear import scale_design

    Z = scale_design(D, model.x_scaler)
    for mine, theirs in zip(stored.nets, model.nets, strict=True):
        np.testing.assert_allclose(mine.predict(Z), theirs.predict(Z), rtol=0, atol=1e-10)
    np.testing.assert_allclose(stored.predict(D), model.predict(D), rtol=0, atol=1e-10)  # scalers, sinh, seeds' mean
    gap = D[:1].copy()
    gap[0, 3] = np.nan
    assert np.isnan(stored.predict(gap)).all()  # a missing input: no forecast, not a guess


def test_day_one_is_the_three_way_blend_of_trees_linear_and_dnn(tmp_path):
    f = _frame()
    o = f["origin"].max()
    settings = TREES.with_(linear=LIN.with_(horizon_days=(1,), weight=0.4))
    with_dnn = _fit(f, o, settings.with_(dnn=TINY))
    without = _fit(f, o, settings)
    rows = f[f["origin"] == o]
    p = with_dnn.predict(rows)["p50"].to_numpy()
    trees, lin, dnn = with_dnn.tree_point(rows), with_dnn.predict_linear(rows), with_dnn.predict_dnn(rows)
    day1 = (rows["horizon_day"] == 1).to_numpy()
    assert np.isfinite(dnn[day1]).all() and np.isnan(dnn[~day1]).all()
    np.testing.assert_allclose(p[day1], 0.35 * trees[day1] + 0.4 * lin[day1] + 0.25 * dnn[day1], rtol=1e-12)
    np.testing.assert_allclose(p[~day1], trees[~day1], rtol=1e-12)  # days 2-3: trees alone
    before = without.predict(rows)["p50"].to_numpy()
    np.testing.assert_allclose(without.tree_point(rows), trees)  # same trees and linear members ...
    assert np.abs(p[day1] - before[day1]).min() > 0  # ... so the DNN is what moves day 1
    np.testing.assert_array_equal(p[~day1], before[~day1])
    # saved as plain arrays (format version 4) and loaded, it predicts the same numbers
    path = with_dnn.save(tmp_path / "m")
    meta = json.loads((path / METADATA_FILE).read_text())
    assert meta["format_version"] == 4 and meta["dnn"]["weight"] == 0.25
    member = meta["dnn"]["members"][0]
    assert member["nets"] == [["dnn-d1-w0056-s0-l0.npy", "dnn-d1-w0056-s0-l1.npy", "dnn-d1-w0056-s0-l2.npy"]]
    assert np.load(path / "dnn-d1-w0056-s0-l0.npy", allow_pickle=False).shape == (len(meta["dnn"]["columns"]) + 1, 8)
    assert np.load(path / member["scaler"], allow_pickle=False).shape == (2, len(meta["dnn"]["sources"]) * 24 + 24)
    files = sorted(q.name for q in path.iterdir())
    assert all(not (path / n).read_bytes().startswith(b"\x80") for n in files)  # no pickle
    pd.testing.assert_frame_equal(load_predictor(path).predict(rows), with_dnn.predict(rows))


def test_blend_parts_gives_an_absent_parts_weight_to_the_trees():
    """Where a part has no forecast the row is the blend of the parts that have one, exactly as the
    model without the absent part would forecast it (not a renormalised three-way blend)."""
    trees, lin, dnn = np.array([10.0, 10.0, 10.0, 10.0]), np.array([20.0, np.nan, 20.0, np.nan]), \
        np.array([40.0, 40.0, np.nan, np.nan])
    got = blend_parts(trees, [(lin, 0.4), (dnn, 0.2)])
    np.testing.assert_allclose(got, [0.4 * 10 + 0.4 * 20 + 0.2 * 40,
                                     0.8 * 10 + 0.2 * 40,             # no linear forecast: trees and DNN
                                     0.6 * 10 + 0.4 * 20,             # no DNN forecast: trees and linear
                                     10.0], rtol=1e-15)               # neither: trees alone
    no_dnn = np.isnan(dnn)
    np.testing.assert_array_equal(got[no_dnn], boosted.blend(trees, lin, 0.4)[no_dnn])  # bit for bit
    np.testing.assert_array_equal(got[np.isnan(lin)], boosted.blend(trees, dnn, 0.2)[np.isnan(lin)])
    np.testing.assert_array_equal(blend_parts(trees, [(lin, 0.4)]), boosted.blend(trees, lin, 0.4))
    np.testing.assert_allclose(blend_parts(trees, [(lin, 0.5), (dnn, 0.5)])[3], 10.0)  # trees' weight 0, no part
    with pytest.raises(ValidationError, match=r"part 1 weight 0.7 plus part 2 weight 0.4 is more than 1"):
        blend_parts(trees, [(lin, 0.7), (dnn, 0.4)])
    with pytest.raises(ValidationError, match=r"part 1 weight -0.1: give a number from 0 to 1"):
        blend_parts(trees, [(lin, -0.1)])


def test_fill_missing_hour_fills_one_gap_per_source_and_no_more():
    D = np.arange(2 * 10, dtype="float64").reshape(2, 10)  # 2 rows, 2 sources x 4 hours, 2 dummies
    D[0, 1] = np.nan              # source 0, hour 1: between 0 and 2
    D[0, 7] = np.nan              # source 1, hour 3 (the day's last): its one neighbour
    D[1, 0] = D[1, 1] = np.nan    # two hours of one source: a data gap, left alone
    got = fill_missing_hour(D, sources=2, hours=4)
    assert got[0, 1] == (D[0, 0] + D[0, 2]) / 2 and got[0, 7] == D[0, 6]
    assert np.isnan(got[1, :2]).all() and np.isnan(D[0, 1])  # the input is not changed
    np.testing.assert_array_equal(got[:, 8:], D[:, 8:])


def _stockholm_23_hour_day(f: pd.DataFrame, day: str = "2024-03-31") -> tuple[pd.DataFrame, int]:
    """``f`` with the rows of a real 23-hour day removed: the last Sunday of March in
    Europe/Stockholm has no local 02:00 (the hour is taken from the time zone database)."""
    local = pd.date_range(day, pd.Timestamp(day) + pd.Timedelta(days=1), freq="h", tz="Europe/Stockholm",
                          inclusive="left")
    assert len(local) == 23
    (gone,) = set(range(24)) - set(local.hour)
    on_day = f["ts"].dt.strftime("%Y-%m-%d") == day
    return f[~(on_day & (f["hour"] == gone))].reset_index(drop=True), gone


def test_a_23_hour_dst_day_gets_the_three_way_blend_and_uncovered_rows_the_two_part_blend():
    """A real 23-hour day (Europe/Stockholm, 2024-03-31) gets a DNN forecast: the missing hour of
    its design is filled as in training; a row the DNN does not forecast (horizon day 2, which only
    the linear part covers, or a day with a real data gap) is exactly the model without a DNN part."""
    f, gone = _stockholm_23_hour_day(_frame(days=100))
    o = f.loc[(f["ts"].dt.strftime("%Y-%m-%d") == "2024-03-31") & (f["horizon_day"] == 1), "origin"].iloc[0]
    settings = TREES.with_(linear=LIN.with_(horizon_days=(1, 2), weight=0.4))
    with_dnn, without = _fit(f, o, settings.with_(dnn=TINY)), _fit(f, o, settings)
    rows = f[f["origin"] == o].reset_index(drop=True)
    day1 = (rows["horizon_day"] == 1).to_numpy()
    assert day1.sum() == 23 and gone not in set(rows.loc[day1, "hour"])
    trees, lin, dnn = with_dnn.tree_point(rows), with_dnn.predict_linear(rows), with_dnn.predict_dnn(rows)
    assert np.isfinite(dnn[day1]).all() and np.isnan(dnn[~day1]).all()
    p, before = with_dnn.predict(rows)["p50"].to_numpy(), without.predict(rows)["p50"].to_numpy()
    np.testing.assert_allclose(p[day1], 0.35 * trees[day1] + 0.4 * lin[day1] + 0.25 * dnn[day1], rtol=1e-12)
    day2 = (rows["horizon_day"] == 2).to_numpy()
    assert np.isfinite(lin[day2]).all()
    np.testing.assert_array_equal(p[~day1], before[~day1])  # day 2 (trees + linear) and day 3 (trees) unchanged
    # two hours missing from every source is a data gap: no DNN forecast, the no-DNN model's numbers
    gap = rows[~(day1 & rows["hour"].isin([10, 11]).to_numpy())].reset_index(drop=True)
    g1 = (gap["horizon_day"] == 1).to_numpy()
    assert np.isnan(with_dnn.predict_dnn(gap)[g1]).all() and np.isfinite(with_dnn.predict_linear(gap)[g1]).any()
    np.testing.assert_array_equal(with_dnn.predict(gap)["p50"].to_numpy(), without.predict(gap)["p50"].to_numpy())


def test_a_missing_input_hour_is_filled_in_training_too():
    """The day after a 23-hour day has no price of d-1 at the missing hour; that training day still
    counts (filled as in prediction), so both fits see the same days."""
    f = _frame(days=100)
    g = f.copy()
    after = (g["ts"].dt.strftime("%Y-%m-%d") == "2024-04-01") & (g["hour"] == 2)
    g.loc[after, "price_lag_1d"] = np.nan
    o = f["origin"].max()

    def rows(frame):
        part, _ = fit_dnn_part(frame[frame["label_known_at"] <= o], TARGET, "origin", TINY, until=o)
        return part.members[0].rows

    assert after.any() and rows(g) == rows(f)


def test_dnn_members_have_no_leakage():
    """Through the real path of a backtest (:func:`rolling_origin` over the unfiltered frame, the
    xgboost model type's fit with ``options["dnn"]``): changing every row of later origins and
    every label not yet known at the origin (its own targets included) changes neither the fitted
    networks nor the forecast; changing a value that was known does change them, so the comparison
    would catch a fit (or its caller) that read rows after the origin."""
    from spotcast_train.models import FitRequest, get_model_type
    from spotcast_train.rolling import rolling_origin

    f = _frame()
    origins = list(f["origin"].unique()[[40, 46]])
    o = origins[-1]
    g = f.copy()
    later = g["origin"] > o
    num = [c for c in g.columns if c not in ("zone", "origin", "ts", "label_known_at", "hour", "horizon_day",
                                             "weekday") and pd.api.types.is_numeric_dtype(g[c])]
    g.loc[later, num] = g.loc[later, num] * 3 + 100
    unknown = g["label_known_at"] > o
    g.loc[unknown, TARGET] = -g.loc[unknown, TARGET] - 50
    assert unknown.sum() > later.sum() > 0
    xgb = get_model_type("xgboost")
    options = {"settings": TREES.with_(linear=None), "dnn": TINY}

    def backtest(frame):
        fitted = []

        def fit(train, origin):
            fitted.append(xgb.fit(FitRequest(frame=train, features=FEATURES, target=TARGET, until=origin,
                                             options=options)))
            return fitted[-1]

        out = rolling_origin(frame, origins, fit, recalibrate=3, keep=("horizon_day",))
        return out, fitted

    (fa, ma), (fb, mb) = backtest(f), backtest(g)
    assert len(ma) == len(mb) == 2 and all(m.spec.dnn is not None for m in ma + mb)
    for a, b in zip(ma, mb, strict=True):
        assert a.spec.dnn.to_dict() == b.spec.dnn.to_dict()
        for x, y in zip(a.dnn_nets[0].nets[0].layer_arrays(), b.dnn_nets[0].nets[0].layer_arrays(), strict=True):
            np.testing.assert_array_equal(x, y)
    day1 = fa["horizon_day"] == 1
    assert fa["p50"].notna().all() and day1.any()
    pd.testing.assert_frame_equal(fa, fb)
    # the same comparison sees a change of a value known at the first origin
    h = f.copy()
    h.loc[h["origin"] == origins[0] - pd.Timedelta(days=1), "price_lag_1d"] += 25
    fh, _ = backtest(h)
    assert not np.allclose(fh.loc[day1, "p50"], fa.loc[day1, "p50"])


def test_a_v3_artifact_without_dnn_loads_and_saves_unchanged(tmp_path):
    """``tests/data/v3-lear-model`` was written by spotcast-storage at format version 3 (trees plus
    LEAR members, before DNN parts): it loads, forecasts what it forecast then, and saved again is
    byte-for-byte the same folder."""
    src = DATA / "v3-lear-model"
    model = load_predictor(src)
    assert model.spec.dnn is None and model.dnn_nets == [] and model.spec.written_version == 3
    f = _frame()
    rows = f[f["origin"] == f["origin"].max()]
    np.testing.assert_allclose(model.predict(rows).to_numpy(), np.load(DATA / "v3-lear-model-forecast.npy"),
                               rtol=1e-12)
    out = model.save(tmp_path / "again")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in src.iterdir())
    for name in (METADATA_FILE, "linear-d1-w0021.npy"):
        assert (out / name).read_bytes() == (src / name).read_bytes(), name


def test_a_model_without_dnn_is_written_for_version_3_readers(tmp_path):
    """No DNN part: no ``dnn`` key anywhere (a version-3 reader builds ``ModelSpec(**d)`` and would
    refuse an unknown key), the version stays the lowest that holds the rest; a DNN model is
    version 4, which a version-3 reader refuses with "upgrade spotcast-storage" before parsing."""
    f = _frame()
    o = f["origin"].max()
    settings = TREES.with_(linear=LinearSettings(windows_days=(21,), horizon_days=(1,), solver="lear"))
    spec = json.loads((_fit(f, o, settings).save(tmp_path / "m") / METADATA_FILE).read_text())
    assert spec["format_version"] == 3 and "dnn" not in spec and "dnn" not in spec["info"]["settings"]
    v3_fields = {fl.name for fl in dataclasses.fields(boosted.ModelSpec)} - {"dnn"}
    assert set(spec) - {"outputs"} <= v3_fields
    dnn_path = _fit(f, o, settings.with_(dnn=TINY)).save(tmp_path / "d")
    meta = json.loads((dnn_path / METADATA_FILE).read_text())
    assert meta["format_version"] == 4
    reader_v3 = pytest.MonkeyPatch()
    reader_v3.setattr(boosted, "FORMAT_VERSION", 3)  # this module's reader as of version 3
    try:
        with pytest.raises(ValidationError, match=r"format version 4 is newer .* upgrade spotcast-storage"):
            load_predictor(dnn_path)
    finally:
        reader_v3.undo()


def test_bad_weights_and_settings_are_clear_errors():
    for w in (-0.1, 1.5, "0.2", True):
        with pytest.raises(ValidationError, match=r"DNN weight .*: give a number from 0 to 1"):
            DnnPartSettings(weight=w)
    with pytest.raises(ValidationError, match=r"linear weight 0.4 plus DNN weight 0.7 is more than 1"):
        XGBSettings(linear=LinearSettings(), dnn=DnnPartSettings(weight=0.7))
    XGBSettings(linear=None, dnn=DnnPartSettings(weight=1.0))  # trees' weight 0 is allowed
    with pytest.raises(ValidationError, match=r"two hidden layers"):
        DnnPartSettings(network=DnnSettings(hidden=(8,)))
    with pytest.raises(ValidationError, match=r"each once"):
        DnnPartSettings(network=DnnSettings(seeds=(0, 0)))
    with pytest.raises(ValidationError, match=r"--dnn-weight with --no-dnn"):
        dnn_options(False, 0.3)
    with pytest.raises(ValidationError, match=r"--dnn-seeds: this model has no DNN members by default; add --dnn"):
        dnn_options(None, seeds="0")
    assert dnn_options(False) == {"dnn": None} and dnn_options(None) == {}
    base = DnnPartSettings(weight=0.1, network=DnnSettings(seeds=(5,)))
    assert dnn_options(None, 0.3, base=base)["dnn"] == base.with_(weight=0.3)  # changes the default part only
    with pytest.raises(ValidationError, match=r"integers separated by commas"):
        dnn_options(True, seeds="0,x")
    with pytest.raises(ValidationError, match=r"more than 1"):
        dnn_options(True, 0.7, linear_weight=0.4)
    assert dnn_options(True, 0.6, "1,2", linear_weight=0.4)["dnn"] == DnnPartSettings(
        weight=0.6, network=DnnSettings(seeds=(1, 2)))
    with pytest.raises(ValidationError, match=r"DNN weight 2: give a number from 0 to 1"):
        boosted.DnnPart(sources=["price_lag_1d"], members=[boosted.DnnMember("a.npy", [["b.npy"]])], weight=2)
    with pytest.raises(ValidationError, match=r"do not chain"):
        DnnNetwork((np.zeros((3, 4)), np.zeros((5, 2))), (np.zeros(4), np.zeros(2)))


def test_every_weight_check_is_the_one_check():
    """DnnPartSettings, DnnPart, check_weights (the CLI), XGBSettings and ModelSpec say the same."""
    member = boosted.DnnMember("a.npy", [["b.npy"]])
    for make in (lambda: DnnPartSettings(weight=1.5), lambda: boosted.DnnPart(["price_lag_1d"], [member], weight=1.5)):
        with pytest.raises(ValidationError, match=r"^DNN weight 1.5: give a number from 0 to 1 \(the trees keep 1 "
                                                  r"minus the linear and DNN weights\)$"):
            make()
    f = _frame()
    spec = _fit(f, f["origin"].max(), TREES.with_(linear=LIN.with_(weight=0.4), dnn=TINY)).spec
    too_much = r"^linear weight 0.4 plus DNN weight 0.7 is more than 1: the trees keep 1 minus their sum; lower one"
    for make in (lambda: XGBSettings(linear=LinearSettings(weight=0.4), dnn=DnnPartSettings(weight=0.7)),
                 lambda: boosted.check_blend_weights({"linear": 0.4, "DNN": 0.7}),
                 lambda: dataclasses.replace(spec, dnn=dataclasses.replace(spec.dnn, weight=0.7))):
        with pytest.raises(ValidationError, match=too_much):
            make()


def test_damaged_dnn_files_are_clear_errors(tmp_path):
    f = _frame()
    o = f["origin"].max()
    good = _fit(f, o, TREES.with_(linear=None, dnn=TINY)).save(tmp_path / "good")
    layer, scaler = "dnn-d1-w0056-s0-l1.npy", "dnn-d1-w0056-scaler.npy"

    def damaged(name: str, content: bytes | None) -> Path:
        folder = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(good, folder)
        if content is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(content)
        return folder

    with pytest.raises(ValidationError, match=rf"DNN layer file .*{layer} is not a plain NumPy array .*refit the model"):
        load_predictor(damaged(layer, b""))
    with pytest.raises(ValidationError, match=r"is not a plain NumPy array"):
        load_predictor(damaged(layer, b"\x93NUMPY garbage"))
    folder = damaged(layer, b"")
    np.save(folder / layer, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # a pickle is never loaded
    with pytest.raises(ValidationError, match=r"not a plain NumPy array"):
        load_predictor(folder)
    folder = damaged(scaler, b"")
    np.save(folder / scaler, np.ones((2, 5)), allow_pickle=False)
    with pytest.raises(ValidationError, match=r"holds a \(2, 5\) array; the design needs \(2, \d+\).*refit"):
        load_predictor(folder)
    folder = damaged(layer, b"")
    np.save(folder / layer, np.ones((9, 3)), allow_pickle=False)  # 8 + bias rows, but 3 units where 4 were
    with pytest.raises(ValidationError, match=r"DNN network files dnn-d1-w0056-s0-l0.npy, dnn-d1-w0056-s0-l1.npy, "
                                              r"dnn-d1-w0056-s0-l2.npy in .*: DNN layer 2: .* do not chain .*; "
                                              r"refit the model$"):
        load_predictor(folder)
    with pytest.raises(NotFoundError, match=r"lacks its DNN scaler file dnn-d1-w0056-scaler.npy"):
        load_predictor(damaged(scaler, None))


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_a_damaged_npy_header_is_a_clear_error_not_a_memory_error(tmp_path):
    """The header is read and checked before the data: a header claiming a huge shape (np.load
    would try to allocate it), one whose shape the design cannot use, a truncated body, a dtype
    that is not numbers; for DNN layers, scalers and LEAR coefficients alike, naming the file."""
    f = _frame()
    o = f["origin"].max()
    settings = TREES.with_(linear=LinearSettings(windows_days=(21,), horizon_days=(1,), solver="lear"), dnn=TINY)
    good = _fit(f, o, settings).save(tmp_path / "good")
    meta = json.loads((good / METADATA_FILE).read_text())
    coef = meta["linear"]["members"][0]["file"]
    width = len(meta["linear"]["columns"])
    layer, scaler = "dnn-d1-w0056-s0-l1.npy", "dnn-d1-w0056-scaler.npy"
    cases = [(layer, _npy_header((10**6, 10**6)) + b"\0" * 64, r"header promises a \(1000000, 1000000\) float64 array"),
             (coef, _npy_header((10**6, 10**6)) + b"\0" * 64,
              rf"linear member file .*{coef} holds a \(1000000, 1000000\) array; the design needs \({width + 1}, 24\)"),
             (scaler, _npy_header((10**7,)), r"DNN scaler file .* holds a \(10000000,\) array; the design needs \(2, "),
             ("dnn-d1-w0056-s0-l0.npy", _npy_header((7, 8)) + b"\0" * 7 * 8 * 8,
              r"holds a \(7, 8\) array; layer 0 of 3 must be \(fan-in \+ 1, fan-out\) with fan-in \d+"),
             (coef, _npy_header((width + 1, 24)) + b"\0" * 100, r"truncated or damaged"),
             (coef, _npy_header((width + 1, 24), "|b1") + b"\0" * (width + 1) * 24, r"does not hold numbers \(bool\)")]
    for i, (name, content, message) in enumerate(cases):
        folder = tmp_path / f"bad{i}"
        shutil.copytree(good, folder)
        (folder / name).write_bytes(content)
        with pytest.raises(ValidationError, match=message + ".*refit the model"):
            load_predictor(folder)
    folder = tmp_path / "nan"
    shutil.copytree(good, folder)
    arr = np.load(folder / coef, allow_pickle=False)
    arr[0, 0] = np.nan
    np.save(folder / coef, arr, allow_pickle=False)
    with pytest.raises(ValidationError, match=rf"linear member file .*{coef} holds a non-finite value; refit"):
        load_predictor(folder)


def test_networks_that_do_not_fit_the_part_are_refused_before_anything_is_written(tmp_path):
    """Mis-shaped networks (inputs, outputs, scaler width) or layer file lists that do not match
    are refused by Predictor, by save_artifact before the folder exists, and by load."""
    f = _frame()
    o = f["origin"].max()
    good = _fit(f, o, TREES.with_(linear=None, dnn=TINY))
    part, (nets,) = good.spec.dnn, good.dnn_nets
    cols = len(part.columns)
    rng = np.random.default_rng(0)

    def net(inputs: int, outputs: int) -> DnnNetwork:
        return DnnNetwork((rng.normal(size=(inputs, 8)), rng.normal(size=(8, 4)), rng.normal(size=(4, outputs))),
                          (np.zeros(8), np.zeros(4), np.zeros(outputs)))

    def nets_with(**kw) -> boosted.DnnNets:
        return dataclasses.replace(nets, **kw)

    cases = [(nets_with(nets=(net(cols - 3, 24),)), r"takes \d+ inputs and gives 24 outputs; the part's design has"),
             (nets_with(nets=(net(cols, 23),), y_center=np.zeros(23), y_scale=np.ones(23)),
              r"a scaling of \d+ design columns and 23 hours; .* 24 hours"),
             (nets_with(x_center=nets.x_center[:-1], x_scale=nets.x_scale[:-1]), r"a scaling of \d+ design columns"),
             (nets_with(nets=(*nets.nets, net(cols, 24))), r"layer file lists of lengths \[3\] for networks of \[3, 3\]")]
    for i, (bad, message) in enumerate(cases):
        with pytest.raises(ValidationError, match=message):
            boosted.Predictor(good.spec, good.boosters, [], [bad])
        with pytest.raises(ValidationError, match=message):
            boosted.save_artifact(tmp_path / f"m{i}", good.spec, good.boosters, [], [bad])
        assert not (tmp_path / f"m{i}").exists()
    # a member naming more layer files than its networks have: refused before the boosters are written
    member = dataclasses.replace(part.members[0], nets=[[*part.members[0].nets[0], "extra-l3.npy"]])
    spec = dataclasses.replace(good.spec, dnn=dataclasses.replace(part, members=[member]))
    with pytest.raises(ValidationError, match=r"layer file lists of lengths \[4\] for networks of \[3\]"):
        boosted.save_artifact(tmp_path / "files", spec, good.boosters, [], [nets])
    assert not (tmp_path / "files").exists()
    with pytest.raises(ValidationError, match=r"no DNN part but 1 DnnNets"):
        boosted.Predictor(dataclasses.replace(good.spec, dnn=None), good.boosters, [], [nets])
    # and on load: networks of another design saved under this part's name
    path = good.save(tmp_path / "ok")
    for i, a in enumerate(net(cols - 3, 24).layer_arrays()):
        np.save(path / f"dnn-d1-w0056-s0-l{i}.npy", a, allow_pickle=False)
    with pytest.raises(ValidationError, match=rf"DNN layer file .*dnn-d1-w0056-s0-l0.npy holds a \({cols - 2}, 8\) array; "
                                              rf"layer 0 of 3 .* fan-in {cols}, the design's columns; refit the model"):
        load_predictor(path)


PROBE = """
import sys
sys.modules["sklearn"] = None  # importing scikit-learn fails in this process
import json
import numpy as np, pandas as pd
from spotcast_storage.boosted import xgboost_core_only
from spotcast_storage.modelformat import load_predictor
with xgboost_core_only():  # as `spotcast-serve predict` loads models
    model = load_predictor(sys.argv[1])
    out = model.predict(pd.read_pickle(sys.argv[2]))
np.save(sys.argv[3], out.to_numpy())
print(json.dumps({"sklearn": sorted(m for m in sys.modules if m.startswith("sklearn") and sys.modules[m])}))
"""


def test_stage_fit_with_dnn_registers_the_blend_and_serves_without_scikit_learn(fresh_store, fast, tmp_path):
    """The stage path (service.fit, the promotion gate, the registry): with ``options["dnn"]`` the
    registered model's day-1 p50 is the three-way blend of its parts and differs from the model
    fitted without it; a process where importing scikit-learn fails predicts the same numbers."""
    from spotcast_train import service
    from spotcast_train.data import load_training_frame

    s = fresh_store
    opts = {**fast, "linear": LinearSettings(windows_days=(21, 56), num_boost_round=10)}
    plain = service.fit(s.project, "se3", options=opts, now=s.origin(99), register=False)
    r = service.fit(s.project, "se3", options={**opts, "dnn": TINY}, now=s.origin(99))
    meta = json.loads((Path(r.artifact) / METADATA_FILE).read_text())
    assert meta["kind"] == "xgboost" and meta["format_version"] == 4
    assert [(m["horizon_day"], m["window_days"]) for m in meta["dnn"]["members"]] == [(1, 56)]
    assert r.training_window["gate_origins"] == 28  # through the promotion gate like any fit
    frame, _ = load_training_frame(s.project, "SE3")
    rows = frame[frame["origin"] == frame["origin"].max()].reset_index(drop=True)
    loaded = load_predictor(r.artifact)
    p50 = loaded.predict(rows)["p50"].to_numpy()
    trees, lin, dnn = loaded.tree_point(rows), loaded.predict_linear(rows), loaded.predict_dnn(rows)
    day1 = (rows["horizon_day"] == 1).to_numpy()
    np.testing.assert_allclose(p50[day1], 0.35 * trees[day1] + 0.4 * lin[day1] + 0.25 * dnn[day1], rtol=1e-12)
    np.testing.assert_allclose(p50[~day1], trees[~day1], rtol=1e-12)
    before = plain.predictor.predict(rows)["p50"].to_numpy()
    assert np.abs(p50[day1] - before[day1]).min() > 0
    np.testing.assert_allclose(p50[~day1], before[~day1], rtol=1e-12)  # the same trees elsewhere
    rows.to_pickle(tmp_path / "rows.pkl")
    p = subprocess.run([sys.executable, "-c", PROBE, r.artifact, str(tmp_path / "rows.pkl"), str(tmp_path / "out.npy")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"sklearn": []}
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), loaded.predict(rows).to_numpy(), rtol=1e-12)


def test_cli_dnn_bad_input_and_missing_scikit_learn_write_nothing(fresh_store, monkeypatch):
    from typer.testing import CliRunner

    from spotcast_train import service
    from spotcast_train.cli import app

    s = fresh_store
    store = str(s.project.path)
    events = s.project.get_event_log()

    def snapshot():  # every committed write appends an event in the same transaction
        return events.latest_event_id(), s.project.get_model_registry().get_models("price_xgboost_se3")

    before = snapshot()
    backtest = ["backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04"]
    cases = [(["fit", "--zone", "SE3", "--dnn", "--dnn-weight", "0.7"], "linear weight 0.35 plus DNN weight 0.7 is more than 1"),
             ([*backtest, "--dnn-weight", "0.7"], "linear weight 0.35 plus DNN weight 0.7 is more than 1"),
             (["fit", "--zone", "SE3", "--linear-solver", "gblinear", "--dnn-weight", "0.7"],
              "linear weight 0.35 plus DNN weight 0.7 is more than 1"),
             (["fit", "--zone", "SE3", "--dnn", "--dnn-weight", "-0.5"], "DNN weight -0.5: give a number from 0 to 1"),
             (["fit", "--zone", "SE3", "--no-dnn", "--dnn-weight", "0.2"], "--dnn-weight with --no-dnn"),
             (["fit", "--zone", "SE3", "--dnn", "--dnn-seeds", "0,x"], "--dnn-seeds '0,x': give integers separated by commas")]
    for args, message in cases:
        r = CliRunner().invoke(app, ["--store", store, *args, "--no-progress"])
        assert r.exit_code == 1 and f"error: {message}" in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(app, ["--store", store, "fit", "--zone", "SE3", "--no-linear", "--dnn", "--dnn-weight",
                                 "0.7", "--dnn-seeds", "0,x"])
    assert "integers separated by commas" in r.output  # 0.7 is fine without linear members; the seeds are not
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if scikit-learn were not installed
    for m in ("spotcast_train.lear", "spotcast_train.dnn"):
        monkeypatch.delitem(sys.modules, m, raising=False)
    for args in (["fit", "--zone", "SE3", "--dnn"], [*backtest, "--dnn"], [*backtest, "--dnn-seeds", "1"]):
        r = CliRunner().invoke(app, ["--store", store, *args, "--no-progress"])
        assert r.exit_code == 1 and "DNN members: " in r.output and "pip install 'scikit-learn>=1.4'" in r.output \
            and "Traceback" not in r.output, r.output
    for args in (["fit", "--zone", "SE3"], backtest):  # the default ensemble needs it too: said before any work
        r = CliRunner().invoke(app, ["--store", store, *args, "--no-progress"])
        assert r.exit_code == 1 and "pip install 'scikit-learn>=1.4'" in r.output and "Traceback" not in r.output, \
            r.output
    # `spotcast run` passes settings from Python: the same error before any work
    with pytest.raises(ValidationError, match=r"(linear solver 'lear'|DNN members): .*pip install 'scikit-learn>=1.4'"):
        service.fit(s.project, "SE3", options={"dnn": TINY}, now=s.origin(99))
    assert snapshot() == before
    r = CliRunner().invoke(app, ["--store", store, "models", "--format", "json"])
    assert json.loads(r.output[r.output.index("["):]) == []  # nothing registered


def test_too_little_history_for_dnn_members_is_said_not_silent(fresh_store, fast):
    """``--dnn`` with fewer than 20 complete days: the model is what it would be without DNN members,
    and the fit result (summary, notes, the artifact's info) says why."""
    from spotcast_train import service

    s = fresh_store
    r = service.fit(s.project, "SE3", options={**fast, "dnn": TINY}, window="15d", now=s.origin(99), register=False)
    assert r.predictor.spec.dnn is None
    assert len(r.notes) == 1 and re.fullmatch(r"no DNN members: 1\d complete days < 20 \(within 56 days of the "
                                              r"origin; load more history or widen --window\)", r.notes[0])
    assert f"note: {r.notes[0]}" in r.summary() and r.predictor.spec.info["notes"] == r.notes
    plain = service.fit(s.project, "SE3", options=fast, window="15d", now=s.origin(99), register=False)
    assert plain.notes == [] and "note:" not in plain.summary()


def test_dnn_options_on_another_model_type_are_errors_before_any_work(fresh_store):
    from typer.testing import CliRunner

    from spotcast_train import service
    from spotcast_train.cli import app

    s = fresh_store
    before = s.project.get_event_log().latest_event_id()
    for cmd in (["fit", "--zone", "SE3"], ["backtest", "--zone", "SE3", "--start", "2024-03-01", "--end", "2024-03-04"]):
        for flags, said in ((["--dnn"], "--dnn: "), (["--dnn", "--dnn-seeds", "0"], "--dnn, --dnn-seeds: ")):
            r = CliRunner().invoke(app, ["--store", str(s.project.path), *cmd, "--model", "naive-daily", *flags,
                                         "--no-progress"])
            assert r.exit_code == 1 and f"error: {said}linear and DNN members are part of the xgboost model, not of --model " \
                "naive-daily" in r.output and "Traceback" not in r.output, r.output
    for call in (lambda: service.fit(s.project, "SE3", model="naive-weekly", options={"dnn": TINY}, now=s.origin(99)),
                 lambda: service.backtest(s.project, "SE3", s.origin(90), s.origin(93), model="naive-daily",
                                          options={"dnn": TINY}, write=False)):
        with pytest.raises(ValidationError, match=r"model naive-\w+ takes no option\(s\) \['dnn'\] \(--dnn is an "
                                                  r"option of the xgboost model\); drop it or use --model xgboost"):
            call()
    assert s.project.get_event_log().latest_event_id() == before
    assert s.project.get_model_registry().get_models() == []


def test_recipes_record_the_dnn_settings_only_when_set():
    """A recipe of settings without DNN members has no ``dnn`` key, exactly as recipes recorded
    before the field existed, so a serving model registered then equals an identical challenger
    (no refit of the serving recipe in the gate); with DNN members it is recorded and rebuilt."""
    from spotcast_train import gate

    feats = ["hour", "price_lag_1d"]
    plain = {"settings": TREES.with_(linear=LIN)}
    r = gate.Recipe.make("xgboost", plain, 730, feats)
    recorded = json.loads(json.dumps(r.to_dict()))["options"]["settings"]
    assert set(recorded) == {"__dataclass__"} | {fl.name for fl in dataclasses.fields(XGBSettings)} - {"dnn"}
    assert gate.Recipe(**{**r.to_dict(), "features": tuple(feats)}).decoded_options() == plain
    with_dnn = {"settings": TREES.with_(linear=LIN, dnn=TINY)}
    d = gate.Recipe.make("xgboost", with_dnn, 730, feats)
    assert d.options["settings"]["dnn"]["weight"] == 0.25 and not d.same_as(r)
    back = gate.Recipe(**{**json.loads(json.dumps(d.to_dict())), "features": tuple(feats)}).decoded_options()
    assert back == with_dnn and isinstance(back["settings"].dnn.network.seeds, tuple)


def test_without_weekday_dummies_every_design_column_is_scaled():
    """``calendar=None``: no dummy is left unscaled (the network's scaler covers every column), and
    the stored member predicts what :class:`DnnModel` fitted on the same rows does."""
    f = _frame()
    o = f["origin"].max()
    train = f[f["label_known_at"] <= o]
    part, nets = fit_dnn_part(train, TARGET, "origin", TINY.with_(calendar=None), until=o)
    assert not any(c.startswith("weekday") for c in part.columns)
    assert len(nets[0].x_center) == len(part.columns) == len(part.sources) * 24
    keys, D, Y = lear_design(train[train["horizon_day"] == 1], part.sources, calendar=None, target=TARGET)
    sel = np.isfinite(D).all(axis=1) & np.isfinite(Y).all(axis=1) \
        & np.asarray(pd.DatetimeIndex(keys["origin"]) >= o - pd.Timedelta(days=56))
    ref = DnnModel(settings=TINY.network, dummies=0).fit(D[sel], Y[sel])
    rows = f[(f["origin"] == o) & (f["horizon_day"] == 1)]
    _, Dnew, _ = lear_design(rows, part.sources, calendar=None)
    np.testing.assert_allclose(nets[0].predict(Dnew), ref.predict(Dnew), rtol=0, atol=1e-10)
    got = part.predict_rows(rows, nets)
    np.testing.assert_allclose(got, ref.predict(Dnew)[0][rows["hour"].to_numpy()], rtol=1e-12)


def test_backtest_with_dnn_members_is_its_own_run(fresh_store, fast):
    from spotcast_train import service

    s = fresh_store
    r = service.backtest(s.project, "SE3", s.origin(90), s.origin(93), options={**fast, "dnn": TINY}, write=False)
    assert r.run_id.endswith("_dnn")
    day1 = r.forecasts[(r.forecasts["model"] == "xgboost") & (r.forecasts["horizon_day"] == 1)]
    assert len(day1) and day1["p50"].notna().all()


def test_cli_options_change_one_part_of_the_default_ensemble():
    """`fit`'s flags start from the stage default: --no-dnn drops the DNN part only, --dnn-seeds
    changes it without --dnn, --linear-solver keeps the default's linear weight."""
    from spotcast_train.builtins import xgboost as builtin
    from spotcast_train.cli import _options

    default = builtin.STAGE_SETTINGS
    assert builtin.settings_of(_options(None)) == default
    assert builtin.settings_of(_options(None, dnn=False)) == default.with_(dnn=None)
    seeds = builtin.settings_of(_options(None, dnn_seeds="7"))
    assert seeds.dnn.network.seeds == (7,) and seeds.dnn.weight == default.dnn.weight
    fast = builtin.settings_of(_options(None, "gblinear", dnn=False))
    assert fast.linear.solver == "gblinear" and fast.linear.weight == default.linear.weight and fast.dnn is None
    assert builtin.settings_of(_options(False)).linear is None
