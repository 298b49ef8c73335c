"""The rolling-origin loop: no leakage, the recalibration schedule, bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotcast_storage.contracts.features import LABEL
from spotcast_storage.errors import ValidationError
from spotcast_train.data import LABEL_KNOWN, candidate_features, load_training_frame
from spotcast_train.rolling import parse_days, parse_recalibrate, rolling_origin
from spotcast_train.xgbmodel import fit_xgb, usable_features

from .conftest import FAST


def _fit(features):
    return lambda frame, origin: fit_xgb(frame, usable_features(frame, features), LABEL, "origin", FAST, until=origin)


def test_forecast_ignores_everything_known_after_the_origin(store):
    """DESIGN.md's leakage test: change every value known after the origin; the forecast must not move."""
    frame, _ = load_training_frame(store.project, "SE3")
    features = candidate_features(frame.columns)
    o = store.origin(70)
    first = rolling_origin(frame, [o], _fit(features), keep=(LABEL,))

    tampered = frame.copy()
    later_label = tampered[LABEL_KNOWN] > o
    tampered.loc[later_label, LABEL] = tampered.loc[later_label, LABEL] * 3 + 100
    later_rows = tampered["origin"] > o
    numeric = [c for c in features if c not in ("hour", "weekday", "month", "day_of_year", "horizon_day",
                                                "horizon_hours")]
    tampered.loc[later_rows, numeric] = tampered.loc[later_rows, numeric] * -1.0
    assert later_label.sum() > 0 and later_rows.sum() > 0
    second = rolling_origin(tampered, [o], _fit(features), keep=(LABEL,))
    pd.testing.assert_frame_equal(first.drop(columns=[LABEL]), second.drop(columns=[LABEL]))


def test_rows_of_the_origin_itself_are_not_trained_on(store):
    """A D+1 row of origin o has its label published after o: it must not be in the training set."""
    frame, _ = load_training_frame(store.project, "SE3")
    o = store.origin(60)
    seen = []
    rolling_origin(frame, [o], lambda f, origin: (seen.append(f), _fit(["price_lag_1d"])(f, origin))[1])
    trained = seen[0]
    assert (trained[LABEL_KNOWN] <= o).all()
    newest = trained[trained["origin"] == trained["origin"].max()]
    # yesterday's origin contributes only its D+1 rows (published before o); D+2.. are unknown yet
    assert newest["origin"].iloc[0] == o - pd.Timedelta(days=1)
    assert set(newest["horizon_day"]) == {1}


@pytest.mark.parametrize(("every", "expected_fits"), [(1, 10), (7, 2), (0, 1), (3, 4)])
def test_recalibration_schedule(store, every, expected_fits):
    frame, _ = load_training_frame(store.project, "SE3")
    origins = [store.origin(d) for d in range(60, 70)]
    fits = []

    def fit(f, origin):
        fits.append(origin)
        return _fit(["price_lag_1d"])(f, origin)

    out = rolling_origin(frame, origins, fit, recalibrate=every)
    assert len(fits) == expected_fits
    assert set(out["fitted_at"]) == set(fits)
    assert (out["fitted_at"] <= out["origin"]).all()


def test_window_caps_the_training_rows(store):
    frame, _ = load_training_frame(store.project, "SE3")
    seen = []
    o = store.origin(80)
    rolling_origin(frame, [o], lambda f, origin: (seen.append(f), _fit(["price_lag_1d"])(f, origin))[1],
                   window_days=10)
    assert seen[0]["origin"].min() >= o - pd.Timedelta(days=10)


def test_bad_arguments():
    assert parse_recalibrate("daily") == 1 and parse_recalibrate("weekly") == 7 and parse_recalibrate("never") == 0
    assert parse_recalibrate("14d") == 14
    assert parse_days("730d") == 730 and parse_days("2y") == 730 and parse_days("8w") == 56 and parse_days(None) is None
    with pytest.raises(ValidationError, match="daily, weekly, never"):
        parse_recalibrate("hourly")
    with pytest.raises(ValidationError, match="730d"):
        parse_days("two years")
    with pytest.raises(ValidationError, match="at least one day"):
        parse_days("0d")
    with pytest.raises(ValidationError, match="label became known"):
        rolling_origin(pd.DataFrame({"origin": [], "ts": []}), [pd.Timestamp("2024-01-01", tz="UTC")],
                       lambda f, o: None)
    frame = pd.DataFrame({"origin": pd.to_datetime(["2024-01-01"], utc=True), "ts": np.nan,
                          LABEL_KNOWN: pd.to_datetime(["2024-01-01"], utc=True)})
    with pytest.raises(ValidationError, match="no forecast origins"):
        rolling_origin(frame, [], lambda f, o: None)


def test_refit_blocks_start_at_their_fit_so_any_run_of_blocks_refits_alike():
    from spotcast_train.rolling import refit_blocks

    days = pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")
    origins = [*days[:4], *days[5:]]  # a missing day: the schedule counts days, not origins
    blocks = refit_blocks([*reversed(origins), origins[0]], 3)  # any order, duplicates once
    assert [[o.day for o in b] for b in blocks] == [[1, 2, 3], [4, 6], [7, 8, 9], [10]]
    tail = [o for b in blocks[1:] for o in b]
    assert refit_blocks(tail, 3) == blocks[1:]  # a run over the later blocks fits as the whole run did
    assert refit_blocks(origins, 0) == [sorted(origins)] and refit_blocks([], 7) == []
