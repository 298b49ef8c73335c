"""The embedded backend: one DuckDB file per store."""
