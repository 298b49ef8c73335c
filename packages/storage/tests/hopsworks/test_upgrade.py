"""Contract upgrades on Hopsworks (against the client's real classes, autospec'd)."""

from __future__ import annotations

import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from ..test_forecasts_v3 import check_old_store_reads_as_v3  # noqa: TID252 (tests are not a package)
from ..test_upgrade import check_upgrade  # noqa: TID252 (tests are not a package)


def test_a_new_contract_version_copies_the_old_rows_once_on_hopsworks(hw, cluster):
    check_upgrade(hw)
    assert len(cluster.table("upgrade_probe", 2).inserted_frames) == 1


@pytest.mark.parametrize("version", [1, 2])
def test_forecasts_v1_and_v2_stores_read_as_v3_on_hopsworks(hw, cluster, version):
    """The chained upgrade (v1 -> v2 -> v3) through the client's classes."""
    check_old_store_reads_as_v3(hw, version)
    assert len(cluster.table("forecasts", 3).inserted_frames) == 1
