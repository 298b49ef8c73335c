"""spotcast train stage."""

import os

from spotcast_storage.versions import package_version

# XGBoost's OpenMP threads spin while they wait for work. On a machine whose cores are busy with
# other processes, spinning threads steal the cores their siblings need: a 0.06 s fit took 5.4 s
# with nthread=2 here, and 0.04 s with passive waiting. Must be set before libgomp loads, i.e.
# before xgboost is imported; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = package_version("spotcast-train")
