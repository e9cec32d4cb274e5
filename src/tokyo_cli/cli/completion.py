"""Shell completion: ``tokyo --show-completion SHELL`` and ``tokyo --install-completion SHELL``.

Typer's own options detect the shell and take no name, so a script for another shell (a
dotfiles repository, a container image) cannot be printed; these two take the shell by name.
The scripts are Typer's: a completing shell runs ``tokyo`` with ``_TOKYO_COMPLETE=complete_<shell>`` set, which
:func:`typer.completion.completion_init` teaches the command to answer. Nothing here imports
more than typer already has, so ``tokyo --help`` stays as fast.
"""

from __future__ import annotations

from typing import Annotated

import typer
from typer.completion import completion_init, get_completion_script, install

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
"""Shells Typer writes completion scripts for."""
PROG = "tokyo"
COMPLETE_VAR = "_TOKYO_COMPLETE"
"""The variable a completion script sets when it asks ``tokyo`` for completions."""

completion_init()  # registers the ``complete_<shell>`` answers with the vendored Click


def _shell(value: str) -> str:
    """``value`` checked against :data:`SHELLS`.

    Raises:
        typer.BadParameter: (exit 2) a shell Typer has no script for.
    """
    if value not in SHELLS:
        raise typer.BadParameter(f"no completion for shell {value!r} (known: {', '.join(SHELLS)})")
    return value


def _show(ctx: typer.Context, _param: object, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    typer.echo(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=_shell(value)))
    raise typer.Exit(0)


def _install(ctx: typer.Context, _param: object, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    shell, path = install(shell=_shell(value), prog_name=PROG, complete_var=COMPLETE_VAR)
    typer.echo(f"{shell} completion for tokyo installed in {path}; it takes effect in a new shell")
    raise typer.Exit(0)


ShowCompletion = Annotated[
    str | None,
    typer.Option(
        "--show-completion",
        metavar="SHELL",
        callback=_show,
        is_eager=True,
        expose_value=False,
        help=f"Print the completion script for SHELL: {', '.join(SHELLS)}.",
    ),
]
InstallCompletion = Annotated[
    str | None,
    typer.Option(
        "--install-completion",
        metavar="SHELL",
        callback=_install,
        is_eager=True,
        expose_value=False,
        help="Install completion for SHELL in its start-up files (~/.bashrc, ~/.zshrc, fish's completions/).",
    ),
]
