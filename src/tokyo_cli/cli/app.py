"""The ``tokyo`` command: wires the command groups and is the one error boundary.

Known errors (:class:`~tokyo_cli.errors.TokyoError`) print one line on stderr and exit with
their code (2 usage/config, 3 run failed); Ctrl-C exits 130; anything else prints
"unexpected error" and exits 3, with the traceback only when ``TOKYO_DEBUG=1``.

Start-up stays fast: this module and the command modules import only typer and the standard
library at import time; the core (and litellm, which only ``llm/gateway.py`` imports) loads inside
the command that needs it.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from tokyo_cli import __version__
from tokyo_cli.cli import (
    agents,
    config,
    describe,
    doctor,
    findings,
    fix,
    history,
    hook,
    merge,
    plugins,
    review,
    show,
    stats,
    tui,
    workflows,
)
from tokyo_cli.cli import eval as eval_cmd
from tokyo_cli.cli import init as init_cmd
from tokyo_cli.cli.common import exits
from tokyo_cli.cli.completion import InstallCompletion, ShowCompletion
from tokyo_cli.errors import TokyoError
from tokyo_cli.safety.textsafe import clean_text

app = typer.Typer(
    name="tokyo",
    help=(
        "A team of five AI code reviewers for your git repository.\n\n"
        "Akira (security), Yuki (tests), Hiro (SRE/CI), Sakura (docs) and Kenji (architecture, "
        "lead) review your change concurrently; Kenji merges their findings.\n\n"
        "Start with:  tokyo review            (uncommitted changes, or your branch)\n\n"
        "No API key? Every agent still runs its offline analyzers. Set ANTHROPIC_API_KEY, "
        "OPENAI_API_KEY, GROQ_API_KEY or GEMINI_API_KEY to give agents their models."
    ),
    no_args_is_help=True,
    add_completion=False,  # cli/completion.py's options take the shell by name
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tokyo {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    install_completion: InstallCompletion = None,
    show_completion: ShowCompletion = None,
) -> None:
    """Root options."""


app.command("review", help=review.HELP, no_args_is_help=False)(exits(review.review))
app.command("merge", help=merge.HELP)(exits(merge.merge))
app.command("describe", help=describe.HELP)(exits(describe.describe))
app.command("fix", help=fix.HELP)(exits(fix.fix))
app.command("hook", help=hook.HELP)(exits(hook.hook))
app.add_typer(workflows.app, name="workflows")
app.add_typer(agents.app, name="agents")
app.add_typer(config.app, name="config")
app.add_typer(plugins.app, name="plugins")
app.add_typer(history.app, name="history")
app.command("show")(exits(show.show))
app.command("stats", help=stats.HELP)(exits(stats.stats))
app.add_typer(findings.app, name="findings")
app.command("tui", help=tui.HELP)(exits(tui.tui))
app.command("eval", help=eval_cmd.HELP)(exits(eval_cmd.eval_command))
app.command("init", help=init_cmd.HELP)(exits(init_cmd.init))
app.command("doctor", help=doctor.HELP)(exits(doctor.doctor))


def _err(message: str) -> None:
    from tokyo_cli.safety.masking import mask_secrets  # here, not at import: `tokyo --help` stays fast

    message = mask_secrets(message)[0]  # an error may quote a file of the reviewed repository
    message = clean_text(message)  # repository text in it (a file name, a YAML key) must not drive the terminal
    sys.stderr.write(f"tokyo: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and turn every outcome into an exit code.

    Without ``argv`` (the ``tokyo`` script, ``python -m tokyo_cli``) the process leaves
    through :func:`tokyo_cli.cli.leave.leave` — everything flushed, closed and removed, then
    ``os._exit`` without interpreter teardown — unless ``TOKYO_SLOW_EXIT=1`` (a profiler
    that reports after ``main`` returns). With ``argv`` (in-process callers) it raises
    ``SystemExit`` as usual.
    """
    debug = os.environ.get("TOKYO_DEBUG", "").lower() in ("1", "true", "yes")
    try:
        code = app(args=argv, prog_name="tokyo", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        _err("interrupted")
        code = 130
    except KeyboardInterrupt:
        _err("interrupted")
        code = 130
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        exc.show()  # type: ignore[attr-defined]
        code = getattr(exc, "exit_code", 2)
    except TokyoError as exc:
        if debug:
            traceback.print_exc()
        _err(f"error: {exc.message}")
        code = exc.exit_code
    except Exception as exc:
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (TOKYO_DEBUG=1 shows the traceback)"
        _err(f"unexpected error: {type(exc).__name__}: {exc}{hint}")
        code = 3
    code = code if isinstance(code, int) else 0
    if argv is None and os.environ.get("TOKYO_SLOW_EXIT", "").lower() not in ("1", "true", "yes"):
        from tokyo_cli.cli.leave import leave

        leave(code)
    sys.exit(code)
