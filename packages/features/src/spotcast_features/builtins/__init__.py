"""Built-in feature transformations, each a plugin module registered like a third-party one."""
