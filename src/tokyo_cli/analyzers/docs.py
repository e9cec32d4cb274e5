"""Sakura's offline checks on Python code: missing docstrings, undocumented options and
environment variables.

``docstrings`` (rule ``docstrings:missing``): a public function, method or class in library
code (not tests, scripts, benchmarks, docs or examples) that the change adds, or whose
signature it changes, and that has no docstring. Properties, overloads and private names are
exempt. Medium for module-level functions and classes, low for methods.

``readme-mentions`` (rules ``readme-mentions:option`` and ``readme-mentions:env``): a
command-line option (typer/click ``Option``/``option``, argparse ``add_argument``) or an
environment variable (``os.environ[...]``, ``os.environ.get``, ``os.getenv``, or a field of a
pydantic-settings class with an ``env_prefix``) that an added line introduces and that neither
the README nor any page under docs/ mentions. Medium. Skipped when the repository has no
README at all.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    anchor_line,
    changed_texts,
    dotted_name,
    is_library_python,
    make_finding,
    old_text,
    parse_python,
    python_defs,
    whole_tree,
)
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.repo import Changeset, FileChange, glob_match

README_GLOBS = ("README", "README.*", "readme.*")
DOC_GLOBS = ("docs/**/*.md", "docs/**/*.rst", "doc/**/*.md", "doc/**/*.rst", "docs/*.md", "docs/*.rst")
MAX_DOC_FILES = 200
# Set by the system, the shell or CI, not by the project: documenting them is not its job.
COMMON_ENV = frozenset({
    "HOME", "PATH", "USER", "USERNAME", "LOGNAME", "PWD", "SHELL", "TERM", "LANG", "LC_ALL",
    "TMPDIR", "TEMP", "TMP", "CI", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "EDITOR",
    "VISUAL", "PAGER", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHASHSEED", "TZ", "HOSTNAME",
})
_COMMON_ENV_PREFIXES = ("XDG_", "GITHUB_", "RUNNER_", "PYTEST_", "LC_")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


class DocstringAnalyzer:
    """New or re-signed public Python definitions without a docstring."""

    name = "docstrings"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Check the library Python files among ``files``; never raises."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        for change, text in changed_texts(changeset, files, is_library_python):
            tree = parse_python(text)
            if tree is None:
                continue
            old_src = old_text(changeset, change)
            old_tree = parse_python(old_src) if old_src is not None else None
            old_names = {d.qualname for d in python_defs(old_tree)} if old_tree is not None else set()
            for d in python_defs(tree):
                if not d.public or d.has_docstring or any(
                        x.split(".")[-1] in ("property", "setter", "overload", "cached_property")
                        for x in d.decorators):
                    continue
                is_new = d.qualname not in old_names
                line = anchor_line(change, d.line, d.line if is_new else d.header_end, whole=whole, prefer=d.line)
                if line is None:
                    continue
                what = d.kind  # "function", "method" or "class"
                findings.append(make_finding(
                    changeset, path=change.path, line=line,
                    severity=Severity.LOW if d.kind == "method" else Severity.MEDIUM,
                    title=f"Public {what} `{d.qualname}` has no docstring",
                    body=f"`{d.qualname}` is {'new' if is_new else 're-signed'} public API with no "
                         "docstring: say what it does, its arguments and return value (shapes, "
                         "units) and the errors it raises.",
                    agent=agent, rule="docstrings:missing", category="docs", confidence=0.9))
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


class ReadmeMentionAnalyzer:
    """New CLI options and environment variables the README and docs never mention."""

    name = "readme-mentions"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Check the library Python files among ``files``; git problems go to ``error``."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        introduced: list[tuple[FileChange, int, str, str]] = []  # change, line, kind, name
        for change, text in changed_texts(changeset, files, is_library_python):
            tree = parse_python(text)
            if tree is None:
                continue
            seen: set[str] = set()
            for line, kind, name in _introduced(tree):
                if name in seen or not (whole or line in change.added_lines):
                    continue
                seen.add(name)
                introduced.append((change, line, kind, name))
        if not introduced:
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        try:
            docs = _documentation(new_tree(changeset, timeout_s=timeout_s))
        except TreeUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"readme-mentions unavailable: {exc}",
                               seconds=time.monotonic() - start)
        if docs is None:  # no README: nowhere to mention them
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        findings = []
        for change, line, kind, name in introduced:
            if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", docs):
                continue
            what = "Option" if kind == "option" else "Environment variable"
            findings.append(make_finding(
                changeset, path=change.path, line=line, severity=Severity.MEDIUM,
                title=f"{what} `{name}` is not mentioned in the README or docs",
                body=f"This change introduces `{name}`, but neither the README nor a page under "
                     "docs/ mentions it, so users will not find it. Document what it does, its "
                     "default and an example.",
                agent=agent, rule=f"readme-mentions:{'option' if kind == 'option' else 'env'}",
                category="docs", confidence=0.7))
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _documentation(tree: NewTree) -> str | None:
    """The README's text plus docs pages (new version); ``None`` without a README."""
    paths = sorted(tree.paths())
    readmes = [p for p in paths if "/" not in p and glob_match(p, README_GLOBS)]
    if not readmes:
        return None
    pages = [p for p in paths if glob_match(p, DOC_GLOBS)][:MAX_DOC_FILES]
    texts = tree.read_many(readmes + pages)
    return "\n".join(data.decode("utf-8", errors="replace") for data in texts.values())


def _introduced(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """``(line, "option"|"env", name)`` for every option and environment variable read."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _typer_params(node)
        elif isinstance(node, ast.Call):
            func = dotted_name(node.func)
            last = func.rsplit(".", 1)[-1]
            if last in ("option", "add_argument"):
                for flag in _flags(node):
                    yield node.lineno, "option", flag
            elif func in ("os.getenv", "getenv", "os.environ.get", "environ.get") and node.args:
                yield from _env(node.args[0], node.lineno)
        elif isinstance(node, ast.Subscript) and dotted_name(node.value) in ("os.environ", "environ") \
                and isinstance(node.ctx, ast.Load):
            yield from _env(node.slice, node.lineno)
        elif isinstance(node, ast.ClassDef):
            yield from _settings_fields(node)


def _flags(call: ast.Call) -> list[str]:
    flags = []
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("--"):
            flags += [f.strip() for f in arg.value.split("/") if f.strip().startswith("--")]
    return flags


def _typer_params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[int, str, str]]:
    args = func.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    for arg, default in pairs:
        calls = [node for root in (default, arg.annotation) if root is not None for node in ast.walk(root)
                 if isinstance(node, ast.Call) and dotted_name(node.func).rsplit(".", 1)[-1] == "Option"]
        for call in calls[:1]:
            flags = _flags(call) or ["--" + arg.arg.replace("_", "-")]
            for flag in flags:
                yield arg.lineno, "option", flag


def _env(node: ast.expr, line: int) -> Iterator[tuple[int, str, str]]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_project_env(node.value):
        yield line, "env", node.value


def _is_project_env(name: str) -> bool:
    return bool(_ENV_NAME.match(name)) and name not in COMMON_ENV and not name.startswith(_COMMON_ENV_PREFIXES)


def _settings_fields(cls: ast.ClassDef) -> Iterator[tuple[int, str, str]]:
    """pydantic-settings fields as the environment variables they read (``env_prefix``)."""
    if not any(dotted_name(b).endswith("BaseSettings") for b in cls.bases):
        return
    prefix = None
    for node in ast.walk(cls):
        if isinstance(node, ast.keyword) and node.arg == "env_prefix" and isinstance(node.value, ast.Constant):
            prefix = str(node.value.value)
    if prefix is None:
        return
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                and not stmt.target.id.startswith("_") and stmt.target.id != "model_config":
            name = (prefix + stmt.target.id).upper()
            if _is_project_env(name):
                yield stmt.lineno, "env", name
