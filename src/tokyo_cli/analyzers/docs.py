"""Sakura's offline checks on Python code: missing docstrings, undocumented options and
environment variables.

``docstrings`` (rule ``docstrings:missing``, low): a public function, method or class of
library code (not tests, scripts, benchmarks, docs or examples) that the change adds, or whose
signature it changes, that has no docstring, and that is public *API*:

1. exported: listed in its module's literal ``__all__``, or re-exported by an enclosing
   package's ``__init__.py`` (``from .mod import name``, ``from pkg.mod import name``,
   ``from .mod import *``, or through an inner package's ``__init__.py``; an ``__all__`` in
   that ``__init__.py`` limits what it exports). A method counts with its class. Exported
   names are reported whatever the package's habits;
2. otherwise, when the module's own package declares no exports (its ``__init__.py`` has no
   ``__all__`` and imports no names from its modules) and no part of the module's path
   starts with ``_``: only when the package already documents most of its public API — more
   than ``DOCUMENTED_SHARE`` (0.5) of its public definitions (module-level functions and
   classes, public methods; properties and overloads left out) have a docstring in the
   reviewed version. The package is the module's top regular package (every directory up
   to it has ``__init__.py``), or for a module outside one, the modules beside it; at most
   ``MAX_PACKAGE_FILES`` modules and ``MAX_PACKAGE_BYTES`` bytes are read (the module's own
   directory first), so a 3,800-file repository stays fast.

A package without docstrings therefore gets no per-function findings: its missing docstrings
are a habit for a model to mention once, not a finding per function. Properties, overloads
and private names are exempt; the change must add the definition or touch its signature.

The threshold was measured with :func:`count_documented` (documented/public definitions):
attrs 24.2.0 0.97, requests 2.32.3 0.88, rich 13.7.1 0.85, jinja2 3.1.6 0.67, markdown-it-py
4.3.0 0.59, click 8.1.7 0.57, httpx 0.27.0 0.55, bandit 1.9.4 0.50 (98/197), typer 0.29.2
0.48, h11 0.16.0 0.44, anyio 4.16.0 0.35, PyYAML 6.0.1 0.08; tokyo's own src/tokyo_cli 0.87
(its tests/ 0.14, benchmarks/ 0.35).
Projects that document their API (click, httpx: Sphinx autodoc from docstrings) sit just
above one half, so 0.6 would drop them; code that does not document sits far below.

``readme-mentions`` (rules ``readme-mentions:option`` and ``readme-mentions:env``): a
command-line option (typer/click ``Option``/``option``, argparse ``add_argument``) or an
environment variable (``os.environ[...]``, ``os.environ.get``, ``os.getenv``, or a field of a
pydantic-settings class with an ``env_prefix``) that an added line introduces and that neither
the README nor any page under docs/ mentions. Medium. Skipped when the repository has no
README at all.
"""

from __future__ import annotations

import ast
import posixpath
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    DefKind,
    PyDef,
    anchor_line,
    changed_texts,
    dotted_name,
    is_library_python,
    make_finding,
    old_text,
    parse_ast,
    parse_python,
    python_defs,
    whole_tree,
)
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange, TargetKind, glob_match
from tokyo_cli.safety import safefs

README_GLOBS = ("README", "README.*", "readme.*")
DOC_GLOBS = ("docs/**/*.md", "docs/**/*.rst", "doc/**/*.md", "doc/**/*.rst", "docs/*.md", "docs/*.rst")
MAX_DOC_FILES = 200
# docstrings: a package whose public definitions are documented above this share has a
# documentation habit that a new undocumented one breaks (measured: see the module docstring).
DOCUMENTED_SHARE = 0.5
MAX_PACKAGE_FILES = 200  # modules read to measure one package's documented share
MAX_PACKAGE_BYTES = 4_000_000  # and at most this many bytes of them
MAX_MODULE_BYTES = 1_000_000  # a bigger module is left out of the measure
_EXEMPT_DECORATORS = ("property", "setter", "getter", "deleter", "overload", "cached_property")
# Set by the system, the shell or CI, not by the project: documenting them is not its job.
COMMON_ENV = frozenset(
    {
        "HOME",
        "PATH",
        "USER",
        "USERNAME",
        "LOGNAME",
        "PWD",
        "SHELL",
        "TERM",
        "LANG",
        "LC_ALL",
        "TMPDIR",
        "TEMP",
        "TMP",
        "CI",
        "NO_COLOR",
        "FORCE_COLOR",
        "COLUMNS",
        "LINES",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "TZ",
        "HOSTNAME",
    }
)
_COMMON_ENV_PREFIXES = ("XDG_", "GITHUB_", "RUNNER_", "PYTEST_", "LC_")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


class DocstringAnalyzer:
    """New or re-signed public API without a docstring (see the module docstring)."""

    name = "docstrings"

    @staticmethod
    def parses(path: str) -> bool:
        """The files whose new version it parses (and shares, common.parse_ast): library Python."""
        return is_library_python(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Check the library Python files among ``files``; git problems go to ``error``."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        # change, qualname, kind, new?, line, the module's public top-level names, its literal __all__?
        pending: list[tuple[FileChange, str, DefKind, bool, int, set[str], bool]] = []
        counted: dict[str, tuple[int, int]] = {}  # path -> count_documented, not parsed twice
        inits: dict[str, ast.Module] = {}
        for change, text in changed_texts(changeset, files, is_library_python):
            tree = parse_python(text, path=change.path)
            if tree is None:
                continue
            if posixpath.basename(change.path) == "__init__.py":
                inits[change.path] = tree
            old_src = old_text(changeset, change)
            old_tree = parse_python(old_src) if old_src is not None else None
            old_names = {d.qualname for d in python_defs(old_tree)} if old_tree is not None else set()
            defs = python_defs(tree)
            counted[change.path] = _count(defs)
            top_names = {d.name for d in defs if d.public and "." not in d.qualname}
            has_all = _literal_all(tree) is not None
            for d in defs:
                if not d.public or d.has_docstring or _exempt(d):
                    continue
                is_new = d.qualname not in old_names
                line = anchor_line(change, d.line, d.line if is_new else d.header_end, whole=whole, prefer=d.line)
                if line is not None:
                    # Names only, not the PyDef: its AST node, kept for every undocumented
                    # definition until the public-API check, held every tree of a 10,000-file
                    # change (1 GB peak, bench_audit.py --scale).
                    pending.append((change, d.qualname, d.kind, is_new, line, top_names, has_all))
        if not pending:
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        findings: list[Finding] = []
        try:
            api = _PublicApi(new_tree(changeset, timeout_s=timeout_s), counted, inits)
            for change, qualname, kind, is_new, line, top_names, has_all in pending:
                why = api.why_public(change.path, qualname.split(".")[0], top_names, has_all)
                if why is None:
                    continue
                findings.append(
                    make_finding(
                        changeset,
                        path=change.path,
                        line=line,
                        severity=Severity.LOW,
                        title=f"Public {kind} `{qualname}` has no docstring",
                        body=f"`{qualname}` is {'new' if is_new else 're-signed'} public API ({why}) with "
                        "no docstring: say what it does, its arguments and return value (shapes, "
                        "units) and the errors it raises.",
                        agent=agent,
                        rule="docstrings:missing",
                        category="docs",
                        confidence=0.9,
                    )
                )
        except TreeUnavailable as exc:
            return AnalyzerRun(
                name=self.name,
                findings=findings,
                error=f"docstrings unavailable: {exc}",
                seconds=time.monotonic() - start,
            )
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _exempt(d: PyDef) -> bool:
    """Properties and overloads document themselves elsewhere (the getter, the implementation)."""
    return any(x.split(".")[-1] in _EXEMPT_DECORATORS for x in d.decorators)


def count_documented(sources: Iterable[str]) -> tuple[int, int]:
    """``(documented, public)`` over the public definitions (module-level functions and
    classes, public methods of public classes; properties and overloads left out) of the
    Python ``sources``; a source that does not parse counts nothing."""
    documented = public = 0
    for source in sources:
        tree = _parse_quiet(source)
        if tree is not None:
            d, p = _count(python_defs(tree))
            documented, public = documented + d, public + p
    return documented, public


def _count(defs: list[PyDef]) -> tuple[int, int]:
    counted = [d for d in defs if d.public and not _exempt(d)]
    return sum(d.has_docstring for d in counted), len(counted)


def _parse_quiet(source: str) -> ast.Module | None:
    # Not parse_python: a module outside the change that does not parse is not this review's news.
    try:
        return parse_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@dataclass
class _Init:
    """What one ``__init__.py`` re-exports: ``(target module path, [(name, alias)] or None
    for ``*``)`` per ``from ... import``, and its literal ``__all__``."""

    imports: list[tuple[str, list[tuple[str, str]] | None]]
    dunder_all: set[str] | None

    @property
    def declares(self) -> bool:
        """True when the package states its API: an ``__all__`` or names imported from its
        own modules."""
        return self.dunder_all is not None or bool(self.imports)


class _PublicApi:
    """Which definitions of the reviewed version are public API, read from its package's
    ``__init__.py`` files and modules (bounded: ``MAX_PACKAGE_FILES``, ``MAX_PACKAGE_BYTES``)."""

    def __init__(self, tree: NewTree, counted: dict[str, tuple[int, int]], parsed_inits: dict[str, ast.Module]) -> None:
        """``counted``: :func:`count_documented` of modules already parsed (the changed
        ones), ``parsed_inits``: their ``__init__.py`` trees; neither is read again."""
        self.tree = tree
        self.paths = tree.paths()
        self.counted = counted
        self.parsed_inits = parsed_inits
        self._inits: dict[str, _Init | None] = {}
        self._shares: dict[str, tuple[int, int]] = {}
        self._chains: dict[str, list[str]] = {}
        self._by_package: dict[str, str | None] = {}  # path -> why_public's per-module answer
        self._by_dir: dict[str, list[str]] | None = None  # directory -> its paths, built on first need

    def why_public(self, path: str, name: str, top_names: set[str], has_all: bool) -> str | None:
        """Why module-level ``name`` of module ``path`` (whose public module-level names are
        ``top_names``; ``has_all``: it has a literal ``__all__``) is public API, as a phrase
        for the finding; ``None`` when it is not."""
        if has_all:  # python_defs already kept only the names __all__ lists
            return "listed in the module's `__all__`"
        via = self._reexported_by(path, name, top_names)
        if via is not None:
            return f"re-exported by `{via}`"
        if path not in self._by_package:  # the rest depends on the module only
            self._by_package[path] = self._package_reason(path)
        return self._by_package[path]

    def _package_reason(self, path: str) -> str | None:
        pkg_dir = posixpath.dirname(path)
        init = self._init(posixpath.join(pkg_dir, "__init__.py")) if posixpath.basename(path) != "__init__.py" else None
        if init is not None and init.declares:
            return None  # the package names its API and this is not part of it
        if _private_path(path):
            return None
        documented, public = self.share(path)
        if public and documented / public > DOCUMENTED_SHARE:
            return (
                f"its package documents {100 * documented // public}% of its public definitions, "
                f"{documented} of {public}"
            )
        return None

    # --------------------------------------------------------------- exports

    def _chain(self, path: str) -> list[str]:
        """The package directories enclosing module ``path``, innermost first (an
        ``__init__.py`` starts at its parent package)."""
        if path in self._chains:
            return self._chains[path]
        d = posixpath.dirname(path)
        if posixpath.basename(path) == "__init__.py":
            d = posixpath.dirname(d) if d else None  # type: ignore[assignment]
        out: list[str] = []
        while d is not None and d and posixpath.join(d, "__init__.py") in self.paths:
            out.append(d)
            d = posixpath.dirname(d)
        self._chains[path] = out
        return out

    def _reexported_by(self, path: str, name: str, top_names: set[str]) -> str | None:
        """The first enclosing ``__init__.py`` that exports ``name`` of ``path`` (directly or
        through an inner package's ``__init__.py``), or ``None``."""
        origin: dict[str, str] = {}  # name visible in the current package -> its name in ``path``
        inner = path
        for d in self._chain(path):
            init_path = posixpath.join(d, "__init__.py")
            init = self._init(init_path)
            if init is None:
                break
            visible: dict[str, str] = {}
            for target, names in init.imports:
                if target == path:
                    source = {n: n for n in top_names if not n.startswith("_")}
                elif target == inner and inner != path:
                    source = origin
                else:
                    continue
                if names is None:  # from .mod import *
                    visible.update({k: v for k, v in source.items() if not k.startswith("_")})
                else:
                    visible.update({alias: source[n] for n, alias in names if n in source})
            exported = {
                alias
                for alias in visible
                if (alias in init.dunder_all if init.dunder_all is not None else not alias.startswith("_"))
            }
            if any(visible[a] == name for a in exported):
                return init_path
            origin, inner = visible, init_path
        return None

    def _init(self, init_path: str) -> _Init | None:
        if init_path not in self._inits:
            self._inits[init_path] = None
            tree = self.parsed_inits.get(init_path)
            if tree is None and init_path in self.paths:
                data = self.tree.read(init_path)
                tree = (
                    _parse_quiet(data.decode("utf-8", errors="replace"))
                    if data is not None and len(data) <= MAX_MODULE_BYTES
                    else None
                )
            if tree is not None:
                self._inits[init_path] = _Init(self._imports(init_path, tree), _literal_all(tree))
        return self._inits[init_path]

    def _imports(self, init_path: str, tree: ast.Module) -> list[tuple[str, list[tuple[str, str]] | None]]:
        """``from X import ...`` statements of an ``__init__.py`` that name a module of the
        reviewed tree, as ``(module path, names or None for *)``."""
        here = posixpath.dirname(init_path)
        chain = self._chain(init_path)
        top = chain[-1] if chain else here
        out = []
        for node in _module_level(tree.body):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = posixpath.dirname(base)
                parts = node.module.split(".") if node.module else []
            else:
                parts = (node.module or "").split(".")
                if not parts or parts[0] != posixpath.basename(top):
                    continue
                base = posixpath.dirname(top)
            if not parts:
                continue  # from . import submodule: modules, not names
            stem = posixpath.join(base, *parts)
            target = next((p for p in (stem + ".py", posixpath.join(stem, "__init__.py")) if p in self.paths), None)
            if target is None or target == init_path:
                continue
            names = (
                None if any(a.name == "*" for a in node.names) else [(a.name, a.asname or a.name) for a in node.names]
            )
            out.append((target, names))
        return out

    # --------------------------------------------------------------- documented share

    def share(self, path: str) -> tuple[int, int]:
        """``(documented, public)`` definitions of the package holding ``path`` (its top
        regular package, or for a module outside any package the modules beside it), in
        the reviewed version, reading at most ``MAX_PACKAGE_FILES`` modules and
        ``MAX_PACKAGE_BYTES`` bytes (the module's own directory first)."""
        chain = self._chain(path)
        if posixpath.basename(path) == "__init__.py" and posixpath.dirname(path):
            chain = [posixpath.dirname(path), *chain]
        root = chain[-1] if chain else posixpath.dirname(path)
        if root in self._shares:
            return self._shares[root]
        here = posixpath.dirname(path)
        if chain:
            members = [p for p in self.paths if p.startswith(root + "/") and is_library_python(p)]
        else:
            # Not a scan of every path per directory (100 directories of the 10,000-file
            # change: 1M dirname calls, 3.5 s).
            if self._by_dir is None:
                self._by_dir = {}
                for p in self.paths:
                    self._by_dir.setdefault(posixpath.dirname(p), []).append(p)
            members = [p for p in self._by_dir.get(root, []) if is_library_python(p)]
        members.sort(key=lambda p: (posixpath.dirname(p) != here, p))
        members = members[:MAX_PACKAGE_FILES]
        documented = public = 0
        for p in members:
            if p in self.counted:
                documented, public = documented + self.counted[p][0], public + self.counted[p][1]
        sources: list[str] = []
        budget = MAX_PACKAGE_BYTES
        unread = [p for p in members if p not in self.counted and self._small(p)]
        for i in range(0, len(unread), 50):
            batch = self.tree.read_many(unread[i : i + 50])
            for p in unread[i : i + 50]:
                data = batch.get(p)
                if data is None or len(data) > MAX_MODULE_BYTES or len(data) > budget:
                    continue
                budget -= len(data)
                sources.append(data.decode("utf-8", errors="replace"))
            if budget <= 0:
                break
        more_documented, more_public = count_documented(sources)
        self._shares[root] = documented + more_documented, public + more_public
        return self._shares[root]

    def _small(self, path: str) -> bool:
        """False for a working-tree file known to be over ``MAX_MODULE_BYTES`` (checked
        before reading it; committed blobs are checked after)."""
        if (
            self.tree.changeset.target.kind not in (TargetKind.WORKING, TargetKind.ALL)
            or self.tree.changeset.new_bytes(path) is not None
        ):
            return True
        st = safefs.lstat(self.tree.root, path)
        return st is None or st.st_size <= MAX_MODULE_BYTES


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking into ``if``/``try`` blocks (not functions)."""
    for node in body:
        if isinstance(node, (ast.If, ast.Try)):
            yield from _module_level(
                [*node.body, *node.orelse, *(s for h in getattr(node, "handlers", []) for s in h.body)]
            )
        else:
            yield node


def _literal_all(tree: ast.Module) -> set[str] | None:
    value: ast.expr | None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and isinstance(
            value, (ast.List, ast.Tuple)
        ):
            return {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return None


def _private_path(path: str) -> bool:
    """True when a directory or the module of ``path`` starts with ``_`` (``__init__.py``
    and other dunder names excepted)."""
    parts = path.split("/")
    parts[-1] = parts[-1].rsplit(".", 1)[0]
    return any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts)


class ReadmeMentionAnalyzer:
    """New CLI options and environment variables the README and docs never mention."""

    name = "readme-mentions"

    @staticmethod
    def parses(path: str) -> bool:
        """The files whose new version it parses (and shares, common.parse_ast): library Python."""
        return is_library_python(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Check the library Python files among ``files``; git problems go to ``error``."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        introduced: list[tuple[FileChange, int, str, str]] = []  # change, line, kind, name
        for change, text in changed_texts(changeset, files, is_library_python):
            # Parsed even when not walked: a file that does not parse is listed.
            tree = parse_python(text, path=change.path)
            if tree is None or not may_introduce(text):
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
            return AnalyzerRun(
                name=self.name, error=f"readme-mentions unavailable: {exc}", seconds=time.monotonic() - start
            )
        if docs is None:  # no README: nowhere to mention them
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        findings = []
        for change, line, kind, name in introduced:
            if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", docs):
                continue
            what = "Option" if kind == "option" else "Environment variable"
            findings.append(
                make_finding(
                    changeset,
                    path=change.path,
                    line=line,
                    severity=Severity.MEDIUM,
                    title=f"{what} `{name}` is not mentioned in the README or docs",
                    body=f"This change introduces `{name}`, but neither the README nor a page under "
                    "docs/ mentions it, so users will not find it. Document what it does, its "
                    "default and an example.",
                    agent=agent,
                    rule=f"readme-mentions:{'option' if kind == 'option' else 'env'}",
                    category="docs",
                    confidence=0.7,
                )
            )
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


# A name every form _introduced reads holds: a typer `Option` call, an `option`/`add_argument`
# call, `getenv`, `environ`, a `BaseSettings` base.
_INTRODUCING_WORD = re.compile(r"[Oo]ption|add_argument|getenv|environ|BaseSettings")


def may_introduce(source: str) -> bool:
    """False when ``source`` cannot introduce an option or environment variable (none of the
    names :func:`_introduced` looks for occurs in its text), so its tree need not be walked.
    Non-ASCII text is always True: Python normalizes identifiers (NFKC), which a text
    search would not follow."""
    return not source.isascii() or _INTRODUCING_WORD.search(source) is not None


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
        elif (
            isinstance(node, ast.Subscript)
            and dotted_name(node.value) in ("os.environ", "environ")
            and isinstance(node.ctx, ast.Load)
        ):
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
        calls = [
            node
            for root in (default, arg.annotation)
            if root is not None
            for node in ast.walk(root)
            if isinstance(node, ast.Call) and dotted_name(node.func).rsplit(".", 1)[-1] == "Option"
        ]
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
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and not stmt.target.id.startswith("_")
            and stmt.target.id != "model_config"
        ):
            name = (prefix + stmt.target.id).upper()
            if _is_project_env(name):
                yield stmt.lineno, "env", name
