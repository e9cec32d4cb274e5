"""Function summaries over semgrep's per-function taint analysis: tokyo's packaged rule pack
built for one scan, and the cross-function join of its results.

Semgrep OSS (Community Edition) follows taint inside one function; following it into the
project's own helpers is a Pro feature. Real web code passes request data to helpers
(``find_users(name)`` in ``app/services.py`` runs the query) and sanitizes in helpers
(``safe_next(url)`` returns a relative path or a default). tokyo closes that gap with
*function summaries* computed by semgrep itself in the same run, then joined here:

For each packaged taint rule ``X`` (sources ``S``, sanitizers ``Z``, sinks ``K``) and the set
``P`` of function names the scanned files define (:func:`project_functions`), the built
config holds four rules:

* ``X``: ``S`` -> ``K``. A call to a function of ``P`` is a sanitizer here: what a helper
  returns is decided by its summary, not assumed tainted.
* ``X--call``: ``S`` -> an argument of a call to a function of ``P`` ("called with
  untrusted data").
* ``X--summary``: every parameter of every function -> ``K`` (the parameter reaches a sink:
  a *sink summary*), -> an argument of a call to a function of ``P`` (an edge of the call
  graph), and -> a ``return`` (the function *propagates* its argument).
* ``X--result``: the result of a call to a function of ``P`` -> ``K``.

The join (:func:`join`), per rule:

1. ``reached`` = the functions called with untrusted data, closed over the summary edges
   (a helper passing its parameter on to another helper).
2. A sink summary in a reached function is a finding at the helper's sink line.
3. A ``X--result`` finding counts when its helper propagates its argument, is called with
   untrusted data in the same function, and has no sink summary of its own (the flow is
   then reported once, at the innermost sink).
4. ``X``'s own source -> sink findings are kept as they are.

A call into the project is a bare call (``find_users(name)``, after ``from app.services
import find_users``) or a call through ``self``/``cls``; a call through a module or another
object (``services.find_users(name)``, ``conn.execute(q)``) keeps semgrep's own treatment of
unknown calls (the result is tainted when an argument is). Functions are matched by name:
two project functions of one name share their summaries (an over-approximation). Shared sources and sanitizers live in
``semgrep_rules/_shared.yaml``; a rule names its source groups in ``x-tokyo-sources``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().with_name("semgrep_rules")
SHARED = "_shared.yaml"
CALL = "--call"
SUMMARY = "--summary"
RESULT = "--result"
_DEF = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(", re.MULTILINE)
_CALL_WITH_ARGS = re.compile(rb"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)[ \t]*\((?=\s*[^)\s])")
# Names per alternation in one metavariable-regex: semgrep refuses a rule whose regex is too
# large (measured: 4,945 names, ~100 KB, was "invalid regex"), so long lists are split.
REGEX_CHUNK = 300
# Functions of a module longer than this are not summarised (calls into them keep semgrep's
# own treatment: the result is tainted when an argument is): measured on pypiserver 2.3.2, its
# vendored bottle.py (4,400 lines) alone took 21 s of the summary scan's 71 s.
MAX_HELPER_LINES = 1500
# Never treated as project functions: a project redefining a built-in or a bare-call sink
# would otherwise turn every use of it into a summarised call.
_RESERVED = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "input",
        "print",
        "len",
        "int",
        "str",
        "float",
        "bool",
        "list",
        "dict",
        "set",
        "tuple",
        "format",
        "getattr",
        "setattr",
        "isinstance",
        "sorted",
        "redirect",
        "render_template_string",
        "send_file",
        "escape",
        "quote",
    }
)


def project_functions(
    sources: Iterable[bytes], *, called_only: bool = False, callers: Iterable[bytes] | None = None
) -> list[str]:
    """The names of the functions and methods defined in ``sources`` (Python file contents,
    found by a ``def name(`` scan, never executed or imported), sorted, without
    :data:`_RESERVED` names and dunders. ``called_only``: only those some source calls with
    at least one argument (``name(x``): a function nobody passes data to has no flow to
    summarise, and a route handler is called by its framework, not by the project; the calls
    are looked for in ``callers`` (default: ``sources``)."""
    texts = list(sources)
    calling = texts if callers is None else list(callers)
    names: set[str] = set()
    for src in texts:
        for m in _DEF.finditer(src):
            name = m.group(1).decode("ascii")
            if name not in _RESERVED and not name.startswith("__"):
                names.add(name)
    if called_only:
        names &= {
            m.group(1).decode("ascii")
            for src in calling
            for m in _CALL_WITH_ARGS.finditer(src)
            if not src[src.rfind(b"\n", 0, m.start()) + 1 : m.start()].rstrip().endswith(b"def")
        }
    return sorted(names)


def load_pack(rules_dir: Path = RULES_DIR) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The shared sources/sanitizers and the packaged rules (``*.yaml`` but ``_shared.yaml``),
    as parsed YAML. Raises OSError or yaml.YAMLError for a broken package."""
    shared = yaml.safe_load((rules_dir / SHARED).read_text(encoding="utf-8")) or {}
    rules: list[dict[str, Any]] = []
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name != SHARED:
            rules.extend((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or [])
    return shared, rules


def _named(pattern: dict[str, Any], metavariable: str, names: list[str]) -> dict[str, Any]:
    """``pattern`` where ``metavariable`` is one of ``names``: one metavariable-regex per
    :data:`REGEX_CHUNK` names (an either of them for a longer list)."""
    chunks = [names[i : i + REGEX_CHUNK] for i in range(0, len(names), REGEX_CHUNK)] or [[]]
    named = [
        {
            "patterns": [
                pattern,
                {
                    "metavariable-regex": {
                        "metavariable": metavariable,
                        "regex": "^(" + "|".join(re.escape(n) for n in chunk) + ")$",
                    }
                },
            ]
        }
        for chunk in chunks
    ]
    return named[0] if len(named) == 1 else {"pattern-either": named}


def _project_call(names: list[str], *, focus: str | None) -> dict[str, Any]:
    """A call to a project function (bare, or through self/cls): its arguments when
    ``focus`` names the argument metavariable, else the call itself. ``$TKHELPER`` is bound
    to the function's name, matched by one metavariable-regex per :data:`REGEX_CHUNK` names."""
    # Bare calls and calls through self/cls only: `request.args.get(...)` or `conn.execute(...)`
    # is a library method even when the project defines a function of that name.
    call = (
        {
            "pattern-either": [
                {"pattern": "$TKHELPER(..., $TKARG, ...)"},
                {"pattern": "$TKHELPER(..., $TKKW=$TKARG, ...)"},
                {"pattern": "self.$TKHELPER(..., $TKARG, ...)"},
                {"pattern": "self.$TKHELPER(..., $TKKW=$TKARG, ...)"},
                {"pattern": "cls.$TKHELPER(..., $TKARG, ...)"},
                {"pattern": "cls.$TKHELPER(..., $TKKW=$TKARG, ...)"},
            ]
        }
        if focus
        else {
            "pattern-either": [
                {"pattern": "$TKHELPER(...)"},
                {"pattern": "self.$TKHELPER(...)"},
                {"pattern": "cls.$TKHELPER(...)"},
            ]
        }
    )
    parts: list[dict[str, Any]] = [_named(call, "$TKHELPER", names)]
    if focus:
        parts.append({"focus-metavariable": "$TKARG"})
    return {"patterns": parts}


def helper_files(contents: Mapping[str, bytes], names: list[str]) -> list[str]:
    """The paths of ``contents`` (path -> Python source) that define or call with an argument
    one of ``names``: the only files where a summary, a call into a helper or a helper's
    result can match, so the only files the derived rules run on (:func:`split_config`)."""
    wanted = set(names)
    out = []
    for path, src in contents.items():
        defined = {m.group(1).decode("ascii") for m in _DEF.finditer(src)}
        called = {m.group(1).decode("ascii") for m in _CALL_WITH_ARGS.finditer(src)}
        if wanted & (defined | called):
            out.append(path)
    return sorted(out)


def split_config(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config`` (a :func:`build_config` result) as (the packaged rules, the derived
    summary rules), so the derived ones can run over :func:`helper_files` only."""
    packaged: list[dict[str, Any]] = []
    derived: list[dict[str, Any]] = []
    for r in config.get("rules") or []:
        (derived if "x-tokyo-derived" in (r.get("metadata") or {}) else packaged).append(r)
    return {"rules": packaged}, {"rules": derived}


_IDENT = re.compile(r"(?<![$\w])[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
# A typed metavariable, `(str $X)`: its type names no text of the file.
_TYPED = re.compile(r"\(\s*[A-Za-z_][\w.]*\s+\$[A-Z_][A-Z0-9_]*\s*\)")
_NOT_WORDS = frozenset(
    {
        "True",
        "False",
        "None",
        "def",
        "return",
        "if",
        "else",
        "elif",
        "in",
        "and",
        "or",
        "not",
        "is",
        "lambda",
        "for",
        "while",
        "with",
        "as",
        "import",
        "from",
        "class",
        "async",
        "await",
        "try",
        "except",
        "finally",
        "raise",
        "pass",
    }
)
# Names that occur in most web modules: a pattern's other required name is chosen when it
# has one (any of its names would do; a rarer one lets more rules be left out).
_COMMON = frozenset(
    {
        "request",
        "get",
        "post",
        "session",
        "search",
        "open",
        "text",
        "loads",
        "load",
        "parser",
        "render",
        "response",
        "objects",
        "extra",
        "remove",
        "rename",
        "touch",
        "compile",
        "template",
        "os",
        "flask",
        "django",
    }
)


def _leaf_word(pattern: str) -> frozenset[str] | None:
    """One name a match of the semgrep ``pattern`` needs in the file's text, or None.

    Every name of a Python pattern outside metavariables and string literals is in the
    text of a file it matches: ``flask.redirect(...)`` matches ``redirect(x)`` only after
    ``from flask import redirect`` (semgrep resolves the import in the same file), and an
    alias (``import flask as f``) keeps the module's name in its import line."""
    names = [w for w in _IDENT.findall(_TYPED.sub(" $T ", _QUOTED.sub(" ", pattern))) if w not in _NOT_WORDS]
    if not names:
        return None
    best = max(enumerate(names), key=lambda p: (p[1].lower() not in _COMMON, len(p[1]), p[0]))
    return frozenset({best[1]})


def _regex_words(regex: str) -> frozenset[str] | None:
    """The names of a ``^(a|b|c)$`` metavariable-regex (None for any other regex)."""
    m = re.fullmatch(r"\^\(([A-Za-z0-9_|]+)\)\$", regex)
    return frozenset(m.group(1).split("|")) if m else None


def _needed(node: Any) -> frozenset[str] | None:
    """Names of which a match of the semgrep pattern ``node`` needs at least one in the
    file's text; None when it may match without any (no prefilter possible)."""
    if not isinstance(node, dict):
        return None
    for key in ("pattern", "pattern-inside"):
        if isinstance(node.get(key), str):
            return _leaf_word(node[key])
    if isinstance(node.get("pattern-either"), list):
        out: set[str] = set()
        for child in node["pattern-either"]:
            words = _needed(child)
            if words is None:
                return None
            out |= words
        return frozenset(out)
    if isinstance(node.get("patterns"), list):
        # A conjunction: one positive operand's names are enough (every operand must match).
        regexes = []
        for child in node["patterns"]:
            if not isinstance(child, dict):
                continue
            if any(k in child for k in ("pattern", "pattern-either", "patterns", "pattern-inside")):
                words = _needed(child)
                if words is not None:
                    return words
            elif isinstance(child.get("metavariable-regex"), dict):
                regexes.append(_regex_words(str(child["metavariable-regex"].get("regex") or "")))
        return next((r for r in regexes if r is not None), None)
    return None


def required_words(rule: dict[str, Any]) -> frozenset[str] | None:
    """Names of which at least one is in the text of every file where the packaged ``rule``
    can report a finding (for a taint rule, the file of its sink); None when no such list
    can be derived from its patterns (the rule then always runs). Derived from the patterns
    themselves, so a new sink pattern is never left out by a stale list."""
    if rule.get("mode") == "taint":
        return _needed({"pattern-either": rule.get("pattern-sinks") or []})
    for key in ("pattern", "pattern-either", "patterns"):
        if key in rule:
            return _needed({key: rule[key]})
    return None


def applicable(rules: list[dict[str, Any]], texts: Iterable[bytes]) -> list[dict[str, Any]]:
    """The packaged ``rules`` that can report anything in the files of ``texts``: those
    whose :func:`required_words` occur (as whole words) in at least one of them. A flow
    found through a helper is reported at the helper's sink, so a rule whose sinks occur in
    no scanned file can find nothing in this scan, across functions either. Measured on the
    3,000 modules of benchmarks/bench_security.py: 5 of 13 rules run, the packaged-rule
    scan 14.3 -> 10.5 s CPU and the summary scan 10.9 -> 6.2 s CPU."""
    needed = {r["id"]: required_words(r) for r in rules}
    words = sorted({w for ws in needed.values() if ws for w in ws})
    present: set[str] = set()
    if words:
        find = re.compile(rb"\b(?:" + b"|".join(re.escape(w.encode()) for w in words) + rb")\b")
        for text in texts:
            present.update(m.decode() for m in find.findall(text))
            if len(present) == len(words):
                break
    return [r for r in rules if (want := needed[r["id"]]) is None or want & present]


def build_config(
    names: list[str], rules_dir: Path = RULES_DIR, *, texts: Iterable[bytes] | None = None
) -> dict[str, Any]:
    """The semgrep config (``{"rules": [...]}``) for one scan: every packaged rule with the
    shared sources and sanitizers added, plus ``X--call``, ``X--summary`` and ``X--result``
    of each taint rule (module docstring). ``names``: :func:`project_functions` of the
    scanned files; ``texts``: the scanned files' contents, when given only the
    :func:`applicable` rules are built. Raises OSError or yaml.YAMLError for a broken
    package, KeyError for an unknown source group."""
    shared, rules = load_pack(rules_dir)
    if texts is not None:
        rules = applicable(rules, texts)
    groups: Mapping[str, list[Any]] = shared.get("sources") or {}
    common_sanitizers: list[Any] = list(shared.get("sanitizers") or [])
    out: list[dict[str, Any]] = []
    for rule in rules:
        rule = copy.deepcopy(rule)
        kinds = rule.pop("x-tokyo-sources", None)
        if rule.get("mode") != "taint":
            out.append(rule)
            continue
        sources = [s for kind in (kinds or ["web"]) for s in groups[kind]]
        sanitizers = common_sanitizers + list(rule.get("pattern-sanitizers") or [])
        sinks = list(rule.get("pattern-sinks") or [])
        options = {"taint_assume_safe_indexes": True, **(rule.get("options") or {})}
        helpers = [_project_call(names, focus=None)] if names else []
        out.append(
            {
                **rule,
                "options": options,
                "pattern-sources": sources,
                "pattern-sanitizers": sanitizers + helpers,
                "pattern-sinks": sinks,
            }
        )
        if not names:
            continue
        base = {
            "mode": "taint",
            "languages": rule["languages"],
            "severity": "INFO",
            "metadata": {**(rule.get("metadata") or {}), "x-tokyo-derived": rule["id"]},
            "options": options,
        }
        out.append(
            {
                **base,
                "id": rule["id"] + CALL,
                "message": "call $TKHELPER",
                "pattern-sources": sources,
                "pattern-sanitizers": sanitizers,
                "pattern-sinks": [_project_call(names, focus="$TKARG")],
            }
        )
        out.append(
            {
                **base,
                "id": rule["id"] + SUMMARY,
                "message": "summary $FUNC $TKHELPER",
                # Only the functions some file calls with an argument (``names``).
                "pattern-sources": [
                    {
                        "patterns": [
                            _named({"pattern-inside": "def $FUNC(..., $PARAM, ...):\n  ...\n"}, "$FUNC", names),
                            {"focus-metavariable": "$PARAM"},
                            {"metavariable-regex": {"metavariable": "$PARAM", "regex": "^(?!(self|cls)$)"}},
                        ]
                    }
                ],
                "pattern-sanitizers": sanitizers,
                "pattern-sinks": sinks
                + [
                    _project_call(names, focus="$TKARG"),
                    {"patterns": [{"pattern": "return $TKRET"}, {"focus-metavariable": "$TKRET"}]},
                ],
            }
        )
        out.append(
            {
                **base,
                "id": rule["id"] + RESULT,
                "message": "result $TKHELPER",
                "pattern-sources": [_project_call(names, focus=None)],
                "pattern-sanitizers": sanitizers,
                "pattern-sinks": sinks,
            }
        )
    return {"rules": out}


@dataclass
class _Summaries:
    """What the derived rules of one packaged rule said."""

    called: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # helper -> call sites
    edges: dict[str, set[str]] = field(default_factory=dict)  # function -> helpers it passes a parameter to
    propagates: set[str] = field(default_factory=set)  # parameter -> return
    sinks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # function -> sink results
    results: list[dict[str, Any]] = field(default_factory=list)  # helper result -> sink
    direct: list[dict[str, Any]] = field(default_factory=list)  # source -> sink


def enclosing_function(source: bytes, line: int) -> str | None:
    """The name of the innermost ``def`` around 1-based ``line`` of ``source`` (a text scan by
    indentation; None at module level)."""
    return _enclosing(source.splitlines(), line)


def _enclosing(lines: list[bytes], line: int) -> str | None:
    if not 1 <= line <= len(lines):
        return None
    target = lines[line - 1]
    indent = len(target) - len(target.lstrip())
    for i in range(line - 2, -1, -1):
        text = lines[i]
        stripped = text.lstrip()
        if not stripped or stripped.startswith(b"#"):
            continue
        here = len(text) - len(stripped)
        if here < indent:
            m = _DEF.match(text)
            if m:
                return m.group(1).decode("ascii")
            indent = here
            if here == 0:
                return None
    return None


def join(
    results: list[dict[str, Any]], read: Any, config: dict[str, Any], *, display: Any = str
) -> list[dict[str, Any]]:
    """The findings of a scan of ``config`` (a :func:`build_config` result): ``results`` is
    semgrep's JSON ``results`` list, ``read(path) -> bytes | None`` gives a scanned file's
    content. Returns result dicts shaped like semgrep's, each carrying the packaged rule's
    ``check_id``, message and severity; a finding found through a helper also has
    ``extra["x-tokyo-via"]`` (e.g. "find_users() is called with untrusted data at
    app/views.py:24"; ``display(path) -> str`` names a path in that text)."""
    packaged = {r["id"]: r for r in split_config(config)[0]["rules"]}
    split: dict[str, list[bytes]] = {}

    def lines_of(path: str) -> list[bytes]:  # each file split once, however many results it has
        if path not in split:
            split[path] = (read(path) or b"").splitlines()
        return split[path]

    per: dict[str, _Summaries] = {}
    for result in results:
        ident = str(result.get("check_id") or "").rsplit(".", 1)[-1]
        words = str((result.get("extra") or {}).get("message") or "").split()
        path = str(result.get("path") or "")
        line = int((result.get("start") or {}).get("line") or 0)
        for suffix in (CALL, SUMMARY, RESULT):
            if ident.endswith(suffix):
                s = per.setdefault(ident[: -len(suffix)], _Summaries())
                break
        else:
            per.setdefault(ident, _Summaries()).direct.append(result)
            continue
        if suffix == CALL and len(words) == 2:
            s.called.setdefault(words[1], []).append((path, line))
        elif suffix == RESULT and len(words) == 2:
            s.results.append(result)
        elif suffix == SUMMARY and len(words) == 3:
            func, helper = words[1], words[2]
            if not helper.startswith("$"):
                s.edges.setdefault(func, set()).add(helper)
            elif _is_return(result, lines_of(path)):
                s.propagates.add(func)
            else:
                s.sinks.setdefault(func, []).append(result)
    out: list[dict[str, Any]] = []
    for ident, s in per.items():
        out.extend(s.direct)
        reached = _closure(set(s.called), s.edges)
        for func in sorted(reached):
            for result in s.sinks.get(func, []):
                out.append(_as_rule(result, packaged.get(ident), ident, via=_via(func, s, display)))
        for result in s.results:
            helper = str((result.get("extra") or {}).get("message") or "").split()[-1]
            if helper not in s.propagates or helper in s.sinks:
                continue
            path = str(result.get("path") or "")
            line = int((result.get("start") or {}).get("line") or 0)
            here = _enclosing(lines_of(path), line)
            if any(p == path and _enclosing(lines_of(p), ln) == here for p, ln in s.called.get(helper, [])):
                out.append(
                    _as_rule(result, packaged.get(ident), ident, via=f"{helper}() returns untrusted data it was given")
                )
    return _dedupe(out)


def _is_return(result: dict[str, Any], lines: list[bytes]) -> bool:
    """Whether a summary result is its ``return`` sink (the whole returned expression): the
    text before its start (in its file's ``lines``) ends with ``return`` and nothing but a
    comment follows its end. A sink inside the returned expression (``return
    path.read_text()``) is not."""
    start, end = result.get("start") or {}, result.get("end") or {}
    first, last = int(start.get("line") or 0), int(end.get("line") or 0)
    if not (1 <= first <= len(lines) and 1 <= last <= len(lines)):
        return False
    head = lines[first - 1][: max(0, int(start.get("col") or 1) - 1)].strip()
    tail = lines[last - 1][max(0, int(end.get("col") or 1) - 1) :].strip()
    return head == b"return" and (not tail or tail.startswith(b"#"))


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _via(func: str, s: _Summaries, display: Any) -> str | None:
    sites = s.called.get(func)
    if sites:
        path, line = min(sites)
        return f"{func}() is called with untrusted data at {display(path)}:{line}"
    callers = sorted(f for f, callees in s.edges.items() if func in callees)
    return f"{func}() receives untrusted data from {callers[0]}()" if callers else None


def _as_rule(result: dict[str, Any], rule: dict[str, Any] | None, ident: str, *, via: str | None) -> dict[str, Any]:
    """A derived rule's result as a result of its packaged rule ``ident``."""
    out = copy.deepcopy(result)
    check = str(out.get("check_id") or "")
    out["check_id"] = check.rsplit(".", 1)[0] + "." + ident if "." in check else ident
    extra = out.setdefault("extra", {})
    if rule is not None:
        extra["message"] = rule.get("message", "")
        extra["severity"] = rule.get("severity", "WARNING")
        extra["metadata"] = rule.get("metadata") or {}
    extra["x-tokyo-via"] = via
    return out


def _dedupe(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, int]] = set()
    out: list[dict[str, Any]] = []
    for r in results:
        key = (str(r.get("check_id")), str(r.get("path")), int((r.get("start") or {}).get("line") or 0))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
