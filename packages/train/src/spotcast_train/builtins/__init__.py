"""Built-in model plugins, registered through the same door as third-party ones."""
