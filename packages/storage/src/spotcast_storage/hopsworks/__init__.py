"""The Hopsworks backend: spotcast's storage API on a Hopsworks cluster.

Imported only when ``mode="hopsworks"`` is used (it imports the ``hopsworks`` client, which
the ``spotcast-storage[hopsworks]`` extra installs). Entry point: :func:`connect`.
"""

from __future__ import annotations

from spotcast_storage.hopsworks.project import HopsworksProject, connect

__all__ = ["HopsworksProject", "connect"]
