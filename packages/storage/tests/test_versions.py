"""Versions come from the installed metadata (issue 17: `spotcast --version`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spotcast_storage import versions


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real installed distribution `spotcast-fakeplugin 9.8.7` (a dist-info folder on sys.path)."""
    info = tmp_path / "spotcast_fakeplugin-9.8.7.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spotcast-fakeplugin\nVersion: 9.8.7\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    return "spotcast-fakeplugin"


def test_package_version_reads_the_metadata(fake_plugin: str) -> None:
    assert versions.package_version(fake_plugin) == "9.8.7"
    assert versions.describe(fake_plugin) == "spotcast-fakeplugin 9.8.7"


def test_umbrella_version_names_every_installed_spotcast_distribution(fake_plugin: str) -> None:
    from importlib.metadata import version

    if versions.package_version("spotcast") == versions.UNKNOWN:
        pytest.skip("the umbrella distribution `spotcast` is not installed (spotcast-storage alone)")

    line = versions.describe("spotcast")
    assert line.startswith(f"spotcast {version('spotcast')} (")
    assert "spotcast-fakeplugin 9.8.7" in line and f"spotcast-storage {version('spotcast-storage')}" in line


def test_a_distribution_that_is_not_installed_says_so() -> None:
    assert versions.package_version("spotcast-no-such-thing") == versions.UNKNOWN
