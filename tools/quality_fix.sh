#!/usr/bin/env bash
# Apply ruff's mechanical fixes to the whole tree, then show what is left for a person.
#
#   tools/quality_fix.sh            # from the repository root, with .venv set up (README)
#
# The config is pyproject.toml's [tool.ruff] and [tool.mypy]. `ruff check --fix` only applies
# the fixes ruff marks safe (imports sorted, Optional[X] -> X | None, timezone.utc -> UTC,
# unused imports); `ruff format` lays the code out at 120 columns (before the fixes, so the
# line lengths they see are the final ones, and after, for the imports they moved). What
# remains (a line ruff cannot shorten, a finding that needs judgement, a mypy error) is
# printed and fails the script: fix it by hand, in a commit of its own. The README's test
# command runs the same checks without fixing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
"$bin/ruff" format --quiet .
"$bin/ruff" check --fix --exit-zero --quiet . >/dev/null
"$bin/ruff" format --quiet .
"$bin/ruff" check .
"$bin/ruff" format --check .
"$bin/mypy" src/
