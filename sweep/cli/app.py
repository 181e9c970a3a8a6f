"""The ``crustuq`` command line: the Typer app, its entry point and the registry of commands.

Each command lives in its own module of this folder (``matter.py``, ``crust.py``, ``sweep.py``,
...), which adds itself to the app with ``register(app)``.

Every sub-command validates its whole input before computing anything; bad input ends with a
one-line message naming the option, the value and what is allowed (exit status 2), and
nothing is written.
"""

from __future__ import annotations

import sys
import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="crustuq: neutron-star crust physics with honest uncertainty bands.",
    pretty_exceptions_enable=False,
)


class UsageError(ValueError):
    """Bad input detected by a command (reported in one line, exit status 2)."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crustuq")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@app.command("version")
def version_cmd() -> None:
    """Print the crustuq version."""
    typer.echo(f"crustuq {_version()}")


#: modules that add their own sub-commands with ``register(app)`` (one module per feature)
COMMAND_MODULES: tuple[str, ...] = (
    "crustuq.sweep.cli.matter",
    "crustuq.sweep.cli.crust",
    "crustuq.sweep.cli.fit_surface",
    "crustuq.sweep.cli.bands",
    "crustuq.sweep.cli.sweep",
    "crustuq.sweep.cli.bench",
)


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, turning bad input into a one-line error."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except ValueError as exc:  # includes UsageError and model validation errors
        typer.echo(f"crustuq: error: {exc}", err=True)
        return 2
    except typer.Exit as exc:  # pragma: no cover
        return exc.exit_code
    except SystemExit as exc:  # pragma: no cover
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 1
        raise
    return int(rc or 0)


def console_main() -> None:
    sys.exit(main())
