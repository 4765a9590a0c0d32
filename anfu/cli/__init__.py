"""The `anfu` command line. Each subcommand lives in its own module and registers on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="anfu",
    help="Anfu (安抚): recognise, understand, regulate and guide customer emotions in service centres.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



def _register_commands() -> None:
    """Import every module of this package: each registers its commands on `app`."""
    import pkgutil
    from importlib import import_module

    for info in pkgutil.iter_modules(__path__):
        if info.name != "common" and not info.name.startswith("_"):
            import_module(f"{__name__}.{info.name}")


def main() -> None:
    """Run the command line. A coded error that escapes a command, or a database that cannot be
    reached, is `error AF###: …` and exit 2 like every command's own refusals, not a traceback."""
    _register_commands()
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - only the known kinds below are answered; the rest re-raised
        from .common import coded

        error = coded(exc)
        if error is None:
            raise
        from .common import fail

        raise SystemExit(fail(error).exit_code) from None
