#!/usr/bin/env bash
# Apply ruff's mechanical fixes to the whole tree, then show what is left for a person.
#
#   tools/quality_fix.sh            # from the repository root, with .venv set up (README)
#
# The config is pyproject.toml's [tool.ruff] and [tool.mypy]. `ruff check --fix` only applies
# fixes ruff marks safe (imports sorted, Optional[X] -> X | None, timezone.utc -> UTC, unused
# imports); `ruff format` then lays the code out at 120 columns. What remains (a line ruff
# cannot shorten, a finding that needs judgement, a mypy error) is printed and fails the script:
# fix it by hand, in a commit of its own. The README's test command runs the same checks
# without --fix.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
"$bin/ruff" check --fix --quiet . || true   # the findings it cannot fix are reported below
"$bin/ruff" format --quiet .
"$bin/ruff" check .
"$bin/ruff" format --check .
"$bin/mypy" src/
