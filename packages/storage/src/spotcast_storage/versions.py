"""Versions from the installed package metadata, so `--version`, the API's /health and the HTTP
User-Agent say what is installed rather than a number someone forgot to bump in the source."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distributions, version

UNKNOWN = "unknown (not installed)"


def package_version(distribution: str) -> str:
    """The installed version of ``distribution`` (e.g. ``spotcast-ingest``); a package imported
    from a source folder that was never installed has no metadata and says so."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return UNKNOWN


def installed_spotcast() -> dict[str, str]:
    """Every installed spotcast distribution (the meta-package, the stages, third-party
    ``spotcast-*`` plugins) by name, with its version, sorted by name."""
    found: dict[str, str] = {}
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name == "spotcast" or name.startswith("spotcast-"):
            found[name] = dist.version
    return dict(sorted(found.items()))


def describe(distribution: str) -> str:
    """One line for ``--version``: ``spotcast-ingest 0.1.0``. The umbrella ``spotcast`` names
    every installed stage too, since they are installed (and upgraded) one by one."""
    if distribution != "spotcast":
        return f"{distribution} {package_version(distribution)}"
    others = {n: v for n, v in installed_spotcast().items() if n != "spotcast"}
    head = f"spotcast {package_version('spotcast')}"
    return head + (f" ({', '.join(f'{n} {v}' for n, v in others.items())})" if others else "")
