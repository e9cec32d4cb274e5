"""Command line entry point."""

import argparse


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="shop")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("command", choices=["list"])
    args = parser.parse_args(argv)
    return 0 if args.command == "list" else 2
