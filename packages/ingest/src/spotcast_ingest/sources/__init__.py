"""Built-in source plugins. Each module implements ``register_sources`` exactly as a
third-party plugin would, and is listed in :data:`spotcast_ingest.plugin.DEFAULT_PLUGINS`."""
