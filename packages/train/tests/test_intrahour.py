"""Quarter-hours from hourly forecasts: the hour's mean is kept, ramps follow the neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from spotcast_train.intrahour import (
    hourly_means,
    linear_ramp,
    neighbour_slopes,
    repeat_quarters,
    shape_features,
)


def test_repeat_puts_each_hour_in_its_four_quarters() -> None:
    h = np.arange(48, dtype=float).reshape(2, 24)
    q = repeat_quarters(h)
    assert q.shape == (2, 96)
    assert list(q[0, :8]) == [0, 0, 0, 0, 1, 1, 1, 1]
    np.testing.assert_allclose(hourly_means(q), h)


def test_linear_ramp_keeps_every_hourly_mean_and_rises_through_a_ramp() -> None:
    rng = np.random.default_rng(0)
    h = rng.normal(50, 20, size=(3, 24))
    for damping in (0.5, 1.0, 1.25):
        np.testing.assert_allclose(hourly_means(linear_ramp(h, damping)), h, atol=1e-9)
    ramp = np.tile(np.arange(24, dtype=float) * 10, (1, 1))
    q = linear_ramp(ramp)
    hour5 = q[0, 20:24]
    np.testing.assert_allclose(hour5, [46.25, 48.75, 51.25, 53.75])  # slope 10/h through 50
    assert np.all(np.diff(q[0, 4:92]) > 0)


def test_slopes_run_across_midnight_and_one_sided_at_the_ends() -> None:
    h = np.vstack([np.full(24, 10.0), np.full(24, 30.0)])
    s = neighbour_slopes(h)
    assert s[0, 23] == pytest.approx(10.0)  # (30 - 10) / 2 across midnight
    assert s[1, 0] == pytest.approx(10.0)
    assert s[0, 0] == 0.0 and s[1, 23] == 0.0
    h2 = h.copy()
    h2[0, 11] = np.nan
    assert np.isfinite(neighbour_slopes(h2)).all()


def test_shape_features_come_from_the_forecast_only() -> None:
    h = np.arange(48, dtype=float).reshape(2, 24)
    f = shape_features(h, np.array([0, 1]))
    assert all(len(v) == 192 for v in f.values())
    assert f["quarter"][:5].tolist() == [0, 1, 2, 3, 0]
    assert f["weekday"][95] == 0 and f["weekday"][96] == 1
    np.testing.assert_allclose(f["level"][:4], 0.0)


@pytest.mark.parametrize("shape", [(24,), (2, 23), (1, 25)])
def test_wrong_layouts_are_refused_with_the_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="days x 24"):
        repeat_quarters(np.zeros(shape))
    with pytest.raises(ValueError, match="days x 96"):
        hourly_means(np.zeros((2, 95)))
