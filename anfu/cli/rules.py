"""`anfu check-rules` and `anfu components`: inspect the rule packs and the registries."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console

from . import app


@app.command("check-rules")
def check_rules(
    rules_dir: Optional[str] = typer.Option(None, "--rules", help="Folder of rule packs (default: the shipped zh_CN packs)."),
) -> None:
    """Validate every rule pack (YAML) and list each problem with its file; exit 1 on problems."""
    from ..errors import AnfuError
    from ..rules import check_all, pack_dir
    from .common import fail

    try:
        problems = check_all(rules_dir=rules_dir)
    except AnfuError as exc:
        raise fail(exc) from None
    console = Console(stderr=False)
    base = pack_dir(rules_dir=rules_dir)
    count = len(list(base.rglob("*.yaml")))
    if not problems:
        console.print(f"[green]OK[/green] {count} rule packs in {base} are valid.")
        return
    for pack, found in problems.items():
        for problem in found:
            console.print(f"[red]{pack}[/red]: {problem}")
    console.print(f"{len(problems)} of {count} packs have problems.")
    raise typer.Exit(code=1)


@app.command()
def components() -> None:
    """List the registered analysis components and emotion models (built-in and plugins)."""
    from .. import registry

    console = Console()
    console.print("[bold]components[/bold]")
    for name in registry.components.names():
        console.print(f"  {name}")
    console.print("[bold]emotion models[/bold]")
    for name in registry.emotion_models.names():
        console.print(f"  {name}")
