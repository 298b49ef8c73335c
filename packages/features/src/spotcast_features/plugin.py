"""Entry point of the features stage into spotcast's plugin manager."""
