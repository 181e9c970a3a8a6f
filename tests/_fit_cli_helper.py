"""Run ``crustuq`` with the ``fit-surface`` command registered (also before it is listed in
``crustuq.sweep.cli.COMMAND_MODULES``). Used in-process and as a subprocess script."""

from __future__ import annotations

import sys


def app_main(argv: list[str]) -> int:
    from crustuq.sweep import cli, fit_cli

    names = {getattr(c, "name", None) for c in cli.app.registered_commands}
    if "fit-surface" not in names:
        fit_cli.register(cli.app)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(app_main(sys.argv[1:]))
