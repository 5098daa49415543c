"""critmin's version, in a module of its own so that any layer can name it (the cache keys
results by it) without importing the package's public API."""

__version__ = "0.2.0"
