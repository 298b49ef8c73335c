"""Entry point of the train stage into spotcast's plugin manager."""
