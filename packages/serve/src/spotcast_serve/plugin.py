"""Entry point of the serve stage into spotcast's plugin manager."""
