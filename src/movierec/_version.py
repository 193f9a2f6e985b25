"""The version, in a module of its own so every layer may name it (the package root imports
every layer)."""

__version__ = "0.1.0"
