"""The one place analyzer subprocesses are started: the reviewed repository never runs code.

Everything an analyzer reads comes from the reviewed repository, which may be written by an
attacker (docs: docs/ARCHITECTURE.md, "Trust boundaries"), while tokyo's own environment holds provider
keys and a GitHub token. Every tool process therefore starts with

* an environment built from an allow-list (:func:`tool_env`): ``PATH``, the locale
  (``LANG``, ``LANGUAGE``, ``LC_*``), ``TZ``, the temp-dir variables and, on Windows, the
  variables a process needs to start (``SYSTEMROOT``, ``COMSPEC``, ...); ``HOME`` (and
  ``USERPROFILE``) point at a fresh empty directory, so no user config, cache or credential
  file is found. Nothing else passes: no ``*_API_KEY``, no ``GITHUB_TOKEN``, no
  ``PYTHONPATH``/``PYTHON*``, no tool configuration variables (``ZIZMOR_CONFIG``,
  ``HADOLINT_*``);
* a working directory that is a fresh empty temporary directory, never the copied tree, so a
  tool that looks for its configuration (or, for Python, modules) in the current directory
  finds nothing;
* for Python tools, ``sys.executable -I`` (:func:`python_command`): isolated mode ignores
  every ``PYTHON*`` variable and the user site directory and keeps the current directory and
  the script's directory off ``sys.path``, so a ``logging.py``, ``json/``, ``site.py``,
  ``sitecustomize.py`` or ``.pth`` file in the reviewed tree is never imported.

Git is started through :func:`run_git_isolated` with :func:`git_env`: the same allow-list plus
the real ``HOME``/``XDG_CONFIG_HOME`` and the ``GIT_*`` variables (git needs the user's
``safe.directory`` and ``core.excludesFile``, and a pre-commit hook's ``GIT_INDEX_FILE``), in
the repository root (git itself runs none of the repository's files for the read-only
commands tokyo uses).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

ENV_ALLOWED = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        # Windows: a process cannot start (or find its DLLs, or resolve PATHEXT) without these.
        "SYSTEMROOT",
        "SYSTEMDRIVE",
        "WINDIR",
        "COMSPEC",
        "PATHEXT",
    }
)
ENV_ALLOWED_PREFIXES = ("LC_",)
# What git needs on top of the allow-list: the user's global config (safe.directory,
# excludes) and its own variables (a hook's GIT_INDEX_FILE, GIT_CONFIG_NOSYSTEM ...).
GIT_ENV_ALLOWED = frozenset({"HOME", "USERPROFILE", "XDG_CONFIG_HOME", "HOMEDRIVE", "HOMEPATH"})
GIT_ENV_PREFIXES = ("GIT_",)


class ToolUnavailable(Exception):
    """An external tool is missing, failed or timed out (message: the reason, one line)."""


def _allowed(name: str, names: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    upper = name.upper()  # Windows names are case-insensitive
    return upper in names or upper.startswith(prefixes)


def tool_env(
    home: Path, *, extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an analyzer process: the allow-listed variables of ``environ``
    (default ``os.environ``), ``HOME``/``USERPROFILE`` = ``home`` (an empty directory), then
    ``extra``."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if _allowed(k, ENV_ALLOWED, ENV_ALLOWED_PREFIXES)}
    env["HOME"] = str(home)
    if sys.platform == "win32":
        env["USERPROFILE"] = str(home)
    env.update(extra or {})
    return env


def git_env(*, extra: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git process: :func:`tool_env`'s allow-list plus the real home
    and config locations and every ``GIT_*`` variable (never a key or token: ``GITHUB_*``
    does not start with ``GIT_``), then ``extra``."""
    source = os.environ if environ is None else environ
    env = {
        k: v
        for k, v in source.items()
        if _allowed(k, ENV_ALLOWED | GIT_ENV_ALLOWED, ENV_ALLOWED_PREFIXES + GIT_ENV_PREFIXES)
    }
    env.update(extra or {})
    return env


def python_command(module: str) -> list[str]:
    """``python -I -m MODULE`` with this interpreter: isolated mode (no ``PYTHON*``
    variables, no user site, neither the current directory nor a script's directory on
    ``sys.path``)."""
    return [sys.executable, "-I", "-m", module]


def run_isolated(
    cmd: Sequence[str], *, timeout_s: float, stdin: bytes | None = None, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` from a fresh empty working directory with :func:`tool_env` (``HOME`` = a
    second fresh empty directory), within ``timeout_s`` seconds; the finished process
    (stdout and stderr captured, any exit code).

    Raises:
        ToolUnavailable: "timed out after N s", or the OS error (missing executable).
    """
    with tempfile.TemporaryDirectory(prefix="tokyo-run-") as tmp:
        cwd, home = Path(tmp) / "cwd", Path(tmp) / "home"
        cwd.mkdir()
        home.mkdir()
        try:
            return subprocess.run(
                list(cmd),
                cwd=cwd,
                input=stdin,
                capture_output=True,
                timeout=timeout_s,
                check=False,
                env=tool_env(home, extra=extra_env),
            )
        except subprocess.TimeoutExpired:
            raise ToolUnavailable(f"timed out after {timeout_s:g} s") from None
        except OSError as exc:
            raise ToolUnavailable(str(exc)) from None


def run_git_isolated(
    root: Path,
    args: Sequence[str],
    *,
    timeout_s: float | None = None,
    stdin: bytes | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` (``args[0]`` the git executable) in the repository ``root`` with
    :func:`git_env`; the finished process.

    Raises:
        subprocess.TimeoutExpired, OSError: as :func:`subprocess.run` (callers word them).
    """
    return subprocess.run(
        list(args),
        cwd=root,
        input=stdin,
        capture_output=True,
        timeout=timeout_s,
        check=False,
        env=git_env(extra=extra_env),
    )


def last_error_line(proc: subprocess.CompletedProcess[bytes], default: str = "no output") -> str:
    """The last non-blank stderr line of ``proc`` with its exit code: "LINE (exit code N)"."""
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return f"{lines[-1] if lines else default} (exit code {proc.returncode})"
