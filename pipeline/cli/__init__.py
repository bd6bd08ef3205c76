"""The `precode` command line: a thin layer that parses arguments and calls plain functions.

One module per command, registered in `app`; `console` is where they print.
"""

from pipeline.cli.app import app, main

__all__ = ["app", "main"]
