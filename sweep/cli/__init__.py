"""The ``crustuq`` command line (one module per command; the app in :mod:`.app`)."""

from crustuq.sweep.cli.app import UsageError, app, console_main, main

__all__ = ["UsageError", "app", "console_main", "main"]
