"""The `turnout` command. Thin: parse arguments, call a layer, render what it returns."""

from ._main import main

__all__ = ["main"]
