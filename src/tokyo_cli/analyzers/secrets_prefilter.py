"""A file-level prefilter for detect-secrets: which files cannot hold anything its plugins
report, so ``scan_file`` (about 4 ms of CPU per 600-byte Python module, measured with
detect-secrets 1.5 on the modules of ``benchmarks/bench_security.py``) is not run on them.

detect-secrets reads a file as lines (``open()`` text mode: universal newlines, each line
``rstrip()``-ed) unless one of its transformers parses it (``.ini``/``.yaml``/config files,
or any file configparser accepts; files of type ``OTHER`` get an eager second pass that
rewrites ``key: value`` as ``key = "value"``), and reports a line only when a plugin's
regular expression matches it. The prefilter takes the same lines, from detect-secrets'
own transformers (both passes), and decides with the plugins' own patterns, never a list
of its own:

* ``KeywordDetector``: every one of its patterns (``keyword.py``, all file types) contains
  its keyword group ``(api_?key|...|password|passwd|pwd|secret|...)`` as a required part, so
  a file without any keyword (case-insensitive) cannot match;
* a regex plugin (``RegexBasedDetector`` with the base ``analyze_line``): each ``denylist``
  pattern searched once over the whole text, with ``re.MULTILINE`` after the trailing
  whitespace of every line is cut: ``^``/``$`` then match where they match on a line, and a
  line's edges are a newline, which every pattern's lookaround accepts as it accepts the
  end of the line (checked when the prefilter is built).

A YAML file, a file with a configparser interpolation (``%(``), a file that is not valid
UTF-8, one a transformer fails on, or any file when the plugins
have anything the rules above do not cover (a plugin of another kind, a pattern with
``\\A``/``\\Z`` or a lookaround a newline could fail) is always scanned. The result
is the same set of findings as scanning every file (``tests/test_secrets_prefilter.py``
compares both on planted secrets of every plugin and on real files).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

_TRAILING = re.compile(r"[^\S\n]+$", re.MULTILINE)
_ANCHOR = re.compile(r"\\[AZz]")
_NEGATIVE = re.compile(r"\(\?<?!([^)]*)\)")
# Negative lookaround bodies a newline always passes (it is neither a word character nor in
# such a class): `(?!\w)`, `(?![a-zA-Z0-9_\-])`.
_NEWLINE_PASSES = re.compile(r"\\w|\[[A-Za-z0-9_\\-]+\]")


def _line_safe(pattern: str) -> bool:
    return _ANCHOR.search(pattern) is None and all(
        _NEWLINE_PASSES.fullmatch(m.group(1)) for m in _NEGATIVE.finditer(pattern)
    )


@dataclass(frozen=True)
class SecretsPrefilter:
    """``keyword``: KeywordDetector's keyword group (None without that plugin);
    ``patterns``: the regex plugins' patterns, compiled with ``re.MULTILINE``."""

    keyword: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def for_plugins(cls, plugins: list[Any]) -> SecretsPrefilter | None:
        """The prefilter for detect-secrets plugin instances ``plugins`` (``get_plugins()``
        under the scan's settings), or None when one of them is not covered (module
        docstring): every file is then scanned."""
        from detect_secrets.plugins import keyword as kw
        from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

        keyword = None
        patterns: list[re.Pattern[str]] = []
        for plugin in plugins:
            if type(plugin) is kw.KeywordDetector:
                group = "(" + "|".join(kw.DENYLIST) + ")"
                every = [
                    *kw.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
                    *(r for table in kw.REGEX_BY_FILETYPE.values() for r in table),
                ]
                if not all(group in r.pattern for r in every):
                    return None
                keyword = re.compile(group, re.IGNORECASE)
            elif isinstance(plugin, RegexBasedDetector) and type(plugin).analyze_line is BasePlugin.analyze_line:
                for r in plugin.denylist:
                    if not _line_safe(r.pattern):
                        return None
                    patterns.append(re.compile(r.pattern, r.flags | re.MULTILINE))
            else:
                return None
        return cls(keyword, tuple(patterns))

    def may_hold(self, path: str, data: bytes) -> bool:
        """Whether detect-secrets may report anything in the file at repository path
        ``path`` with content ``data``; False only when no plugin can match."""
        from detect_secrets.transformers import get_transformed_file
        from detect_secrets.util.filetype import FileType, determine_file_type

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return True
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        # Transformers that can blow up on hostile input never run here, in tokyo's own
        # process without a time limit: YAML (detect-secrets walks aliases: a 1 KB alias
        # bomb took 9.3 s at depth 8, x8 per level) and configparser interpolation
        # (`%(name)s` references expand up to 10 levels deep). Such files go to the scan.
        if "%(" in text or determine_file_type(path) is FileType.YAML:
            return True
        handle = io.StringIO(text)
        handle.name = path  # what the transformers look at
        # The lines detect-secrets' scan_file reads: a transformer's (a config or YAML file)
        # or else the raw lines; for type OTHER also the eager config pass (`key = "value"`
        # lines, quotes added), which scan_file reads when the first pass found nothing.
        try:
            passes = [get_transformed_file(handle) or text.split("\n")]  # type: ignore[arg-type]
            if determine_file_type(path) is FileType.OTHER:
                handle.seek(0)
                passes.append(get_transformed_file(handle, use_eager_transformers=True) or [])  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a transformer failing here: scan_file decides
            return True
        text = "\n".join(line for lines in passes for line in lines)
        if self.keyword is not None and self.keyword.search(text):
            return True
        text = _TRAILING.sub("", text)
        return any(p.search(text) for p in self.patterns)
