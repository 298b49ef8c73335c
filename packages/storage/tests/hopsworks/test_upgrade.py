"""Contract upgrades on Hopsworks (against the client's real classes, autospec'd)."""

from __future__ import annotations

import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

from ..test_upgrade import check_upgrade  # noqa: TID252 (tests are not a package)


def test_a_new_contract_version_copies_the_old_rows_once_on_hopsworks(hw, cluster):
    check_upgrade(hw)
    assert len(cluster.table("upgrade_probe", 2).inserted_frames) == 1
