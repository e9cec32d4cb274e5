#!/bin/bash
# Entry point of the container action: the inputs arrive as INPUT_<NAME> variables (upper
# case, hyphens kept, so they are read with printenv), mapped to tokyo's flags exactly as the
# composite action's review step maps them (action.yml).
set -uo pipefail
input() { printenv "INPUT_$1" || printf '%s' "${2:-}"; }

workspace="${GITHUB_WORKSPACE:-/github/workspace}"
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="$workspace"
export TOKYO_SKIP_DRAFTS="$(input SKIP-DRAFTS true)" TOKYO_SKIP_LABEL="$(input SKIP-LABEL tokyo:skip)"
export TOKYO_RUN_LABEL="$(input RUN-LABEL)" TOKYO_IGNORE_AUTHORS="$(input IGNORE-AUTHORS 'dependabot[bot]')"
export TOKYO_CHECK_RUN="$(input CHECK-RUN false)"
token="$(input GITHUB-TOKEN)"
if [ -n "$token" ]; then export GITHUB_TOKEN="$token"; fi

args=(review "$(input PATH .)" --github --format sarif --output "$(input SARIF tokyo.sarif)"
      --workflow "$(input WORKFLOW review)" --max-comments "$(input MAX-COMMENTS 25)")
for pair in FAIL-ON:--fail-on MODEL:--model API-BASE:--api-base MAX-COST:--max-cost; do
  value="$(input "${pair%%:*}")"
  if [ -n "$value" ]; then args+=("${pair#*:}" "$value"); fi
done
if [ "$(input DESCRIBE false)" = "true" ]; then args+=(--describe); fi
IFS=',' read -ra globs <<< "$(input PATHS)"
for g in "${globs[@]}"; do
  g="${g#"${g%%[![:space:]]*}"}"; g="${g%"${g##*[![:space:]]}"}"
  if [ -n "$g" ]; then args+=(--path "$g"); fi
done
exec tokyo "${args[@]}"
