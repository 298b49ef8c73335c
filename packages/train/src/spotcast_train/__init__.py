"""spotcast train stage."""

import os

# XGBoost's OpenMP threads spin while they wait for work. On a machine whose cores are busy with
# other processes, spinning threads steal the cores their siblings need: a 0.06 s fit took 5.4 s
# with nthread=2 here, and 0.04 s with passive waiting. Must be set before libgomp loads, i.e.
# before xgboost is imported; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def __getattr__(name: str) -> str:
    # computed on first use: reading package metadata imports importlib.metadata, which every
    # CLI's --help would otherwise pay for
    if name == "__version__":
        from spotcast_storage.versions import package_version

        return package_version("spotcast-train")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
