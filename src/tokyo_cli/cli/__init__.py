"""The command-line skin: Typer commands that parse options, call the core, render results."""
