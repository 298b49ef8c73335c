"""Entry point of the ingest stage into spotcast's plugin manager."""
