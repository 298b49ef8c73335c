"""spotcast ingest stage."""

from spotcast_storage.versions import package_version

__version__ = package_version("spotcast-ingest")
