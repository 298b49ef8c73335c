"""spotcast train stage."""

__version__ = "0.1.0"
