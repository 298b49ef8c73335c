"""spotcast ingest stage."""


def __getattr__(name: str) -> str:
    # computed on first use: reading package metadata imports importlib.metadata, which every
    # CLI's --help would otherwise pay for
    if name == "__version__":
        from spotcast_storage.versions import package_version

        return package_version("spotcast-ingest")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
