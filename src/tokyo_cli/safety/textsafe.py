"""Repository-controlled text made safe to print on a terminal: one set of helpers for all.

File names, finding titles and bodies, model names and replies, provider errors: the reviewed
repository (or a model reading it) controls them. Printed raw, they could move the cursor,
recolour or retitle the terminal (ANSI and OSC escapes), reorder what is shown (Unicode bidi
controls, "Trojan Source"), or start a line of their own that looks like one of tokyo's, such
as ``CRITICAL fake.py:1 ...`` from a file name holding a newline. Every renderer that writes
to a terminal (report/terminal.py, cli/progress.py, the TUI) passes such text through one of:

* :func:`quote_path` for a file name: shown as git shows it, unchanged when it is plain, else
  in double quotes with C escapes (``"evil\\nCRITICAL fake.py"``), so it stays one line and
  names the file exactly;
* :func:`one_line` for a title, an id, a model name, an error: one line, controls removed;
* :func:`clean_text` for a body, a suggestion, a summary: newlines kept, controls removed.

They return plain ``str``; renderers put the result in rich ``Text`` (never markup) or escape
it with ``rich.markup.escape`` where markup is unavoidable. No rich or Textual import here.
"""

from __future__ import annotations

import re

# C0 controls but \t and \n (ESC starts ANSI sequences), DEL, C1 controls (\x9b is a one-byte
# CSI), the bidi embeddings, overrides and isolates, and the Arabic letter mark.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What makes git quote a path (core.quotepath=off): controls, '"' and '\'; plus the bidi
# controls above, which git leaves raw but which would reorder the line on screen.
_NEEDS_QUOTING = re.compile(r'[\x00-\x1f\x7f-\x9f"\\\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]')
_C_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


def quote_path(path: str | None) -> str:
    """A repository path for display, on one line and unambiguous.

    Unchanged when it holds no control character, bidi control, line separator, ``"`` or
    ``\\``; otherwise git's quoting: double quotes, C escapes (``\\n``, ``\\t``, ``\\"``,
    ``\\\\``) and octal UTF-8 bytes for the rest (ESC -> ``\\033``, U+202E -> ``\\342\\200\\256``).
    ``None`` -> ``""``.
    """
    if not path:
        return ""
    if not _NEEDS_QUOTING.search(path):
        return path
    out = []
    for ch in path:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif _NEEDS_QUOTING.match(ch):
            out.append("".join(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def clean_text(text: str | None) -> str:
    """Multi-line untrusted text (a body, a suggestion, a summary) made safe to print.

    CRLF, CR and the Unicode line and paragraph separators become LF; every other control
    character (ESC, BEL, backspace, C1, bidi controls) is removed; tabs are kept. ``None`` ->
    ``""``.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL.sub("", text)


def one_line(text: str | None) -> str:
    """:func:`clean_text` with every run of whitespace (newlines too) collapsed to one space."""
    return " ".join(clean_text(text).split())
