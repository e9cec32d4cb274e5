"""Run a composite action's steps the way the GitHub Actions runner does, on this machine.

What is reproduced (docs.github.com, "Metadata syntax for GitHub Actions" and "Workflow
commands for GitHub Actions"):

* inputs: the caller's ``with:`` values over the action's defaults; a composite action's run
  steps see them only through ``${{ inputs.x }}`` expressions (the runner sets no ``INPUT_*``
  variables for composite actions, so neither does this);
* ``${{ }}`` expressions in a step's ``env:`` and ``run:`` — only context lookups
  (``inputs``, ``github``, ``runner``, ``steps.<id>.outputs``, ``env``) and ``||``; anything
  else raises, so an expression this cannot evaluate never passes silently;
* ``shell: bash`` as ``bash --noprofile --norc -eo pipefail <script file>``;
* a fresh ``GITHUB_OUTPUT`` file per step, read back into ``steps.<id>.outputs`` (both the
  ``name=value`` and the ``name<<DELIMITER`` forms), and ``GITHUB_STEP_SUMMARY`` per step;
* workflow commands on stdout (``::error``/``::warning``/``::notice``), with
  ``::stop-commands::<token>`` honoured until ``::<token>::``;
* the action's ``outputs:`` evaluated after the last step.

``uses:`` steps (actions/setup-python, actions/cache) are skipped and listed in ``skipped``:
they are other repositories' code and would need the network. A step's ``if:`` is evaluated
for ``x == 'value'`` / ``x != 'value'`` comparisons joined by ``&&`` (``!cancelled()`` is true);
a step whose exit code is not 0 stops the run.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_LOOKUP = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$")
_COMPARE = re.compile(r"^([\w.-]+)\s*(==|!=)\s*'([^']*)'$")


@dataclass
class StepRun:
    name: str
    id: str | None
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    """What a run of the action left: per-step results, the action's outputs, the job
    summary, the workflow commands obeyed, the ``uses:`` steps skipped."""

    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    commands: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.exit_code == 0 for s in self.steps)


def parse_output_file(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT``'s two forms: ``name=value`` and ``name<<DELIM`` ... ``DELIM``."""
    found: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            found[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
            i += 1
        elif not line.strip():
            i += 1
        else:
            raise ValueError(f"GITHUB_OUTPUT line the runner would refuse: {line!r}")
    return found


def obeyed_commands(stdout: str) -> list[str]:
    """The workflow commands the runner acts on, honouring ``::stop-commands::``."""
    out: list[str] = []
    stop: str | None = None
    for line in stdout.splitlines():
        if stop is not None:
            if line == f"::{stop}::":
                stop = None
            continue
        if line.startswith("::stop-commands::"):
            stop = line[len("::stop-commands::") :]
        elif line.startswith("::"):
            out.append(line)
    return out


class CompositeRunner:
    """Runs ``action_dir/action.yml`` with ``contexts`` (``github``, ``runner``) and ``env``."""

    def __init__(
        self, action_dir: Path, work: Path, *, github: dict[str, str], runner: dict[str, str], env: dict[str, str]
    ) -> None:
        self.action_dir = action_dir
        self.work = work
        self.meta = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        assert self.meta["runs"]["using"] == "composite"
        self.github = github
        self.runner = runner
        self.env = env

    def _lookup(self, path: str, ctx: dict[str, Any]) -> str:
        if not _LOOKUP.match(path):
            raise ValueError(f"expression not supported by this runner: {path!r}")
        node: Any = ctx
        for part in path.split("."):
            node = node.get(part, "") if isinstance(node, dict) else ""
        return "" if node is None else str(node)

    def evaluate(self, expr: str, ctx: dict[str, Any]) -> str:
        for alternative in (a.strip() for a in expr.split("||")):
            if alternative.startswith("'") and alternative.endswith("'"):
                value = alternative[1:-1]
            else:
                value = self._lookup(alternative, ctx)
            if value:
                return value
        return ""

    def substitute(self, text: str, ctx: dict[str, Any]) -> str:
        return _EXPR.sub(lambda m: self.evaluate(m.group(1), ctx), str(text))

    def _condition(self, cond: str, ctx: dict[str, Any]) -> bool:
        """``a == 'v'``, ``a != 'v'`` and ``!cancelled()`` (true: this runner never cancels),
        joined by ``&&``; anything else raises."""
        inner = _EXPR.fullmatch(cond.strip())
        expr = inner.group(1) if inner else cond.strip()
        for term in (t.strip() for t in expr.split("&&")):
            if term == "!cancelled()":
                continue
            m = _COMPARE.match(term)
            if not m:
                raise ValueError(f"if: not supported by this runner: {cond!r}")
            if (self._lookup(m.group(1), ctx) == m.group(3)) != (m.group(2) == "=="):
                return False
        return True

    def run(self, with_: dict[str, str]) -> ActionRun:
        """Run every step; stops at the first step that fails, like the runner."""
        unknown = set(with_) - set(self.meta.get("inputs", {}))
        if unknown:
            raise ValueError(f"unexpected inputs {sorted(unknown)}")  # the runner warns; a test should not pass them
        ctx: dict[str, Any] = {"github": self.github, "runner": self.runner, "steps": {}, "env": self.env}
        inputs: dict[str, str] = {}
        for name, spec in self.meta.get("inputs", {}).items():
            default = self.substitute(str(spec.get("default", "")), ctx)
            inputs[name] = with_.get(name, default)
        ctx["inputs"] = inputs
        result = ActionRun()
        for n, step in enumerate(self.meta["runs"]["steps"]):
            name = step.get("name") or step.get("id") or f"step {n}"
            if "if" in step and not self._condition(str(step["if"]), ctx):
                continue
            if "uses" in step:
                result.skipped.append(f"{name} ({step['uses']})")
                continue
            assert step.get("shell") == "bash", f"{name}: composite run steps need shell: bash here"
            output = self.work / f"output-{n}"
            summary = self.work / f"summary-{n}"
            output.touch()
            summary.touch()
            script = self.work / f"step-{n}.sh"
            script.write_text(self.substitute(step["run"], ctx), encoding="utf-8")
            env = dict(self.env)
            env.update({k: self.substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()})
            env.update(
                GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTION_PATH=str(self.action_dir)
            )
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.github["workspace"],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            outputs = parse_output_file(output.read_text(encoding="utf-8"))
            if step.get("id"):
                ctx["steps"][step["id"]] = {"outputs": outputs}
            result.steps.append(StepRun(name, step.get("id"), proc.returncode, proc.stdout, proc.stderr, outputs))
            result.commands += obeyed_commands(proc.stdout)
            result.summary += summary.read_text(encoding="utf-8")
            if proc.returncode != 0:
                return result
        result.outputs = {k: self.substitute(v["value"], ctx) for k, v in self.meta.get("outputs", {}).items()}
        return result


def runner_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without anything GitHub, runner or input related."""
    src = dict(os.environ if base is None else base)
    return {k: v for k, v in src.items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_", "ACTIONS_"))}
