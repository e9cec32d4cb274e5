"""detect-secrets (Yelp) as an offline analyzer: credentials on added lines of any text file.

Every reviewable text file's new content is scanned with detect-secrets' own
``scan_file`` (its plugins, its false-positive filters such as templated values, ``$VAR``
references and lock files, and its ``# pragma: allowlist secret`` comment), from a temporary
copy at the same relative path so file-type rules apply. Secrets on added lines (any line
in a whole-tree audit) become findings:

* rule ``detect-secrets:<PluginClass>`` (e.g. ``detect-secrets:AWSKeyDetector``);
* severity critical for keys that are unambiguous by format (cloud keys, private keys,
  provider tokens), high for a "secret keyword" assignment (``password = "..."``);
* cwe ``[798]`` (CWE-798, use of hard-coded credentials);
* the secret itself never appears: the anchored line text goes through the one secret
  detector (:func:`tokyo_cli.safety.masking.mask_secrets`: ``[MASKED:<kind>]``), like every
  finding (:func:`tokyo_cli.findings.redact`).

As findings, the two entropy plugins and the public-IP plugin are off: every commit SHA,
checksum and pinned action looks random, and they would bury the real keys (detect-secrets'
docs call them the noisiest). Masking, which costs no reader's attention, uses them all.
The scan never runs in tokyo's own process: a hostile file can make detect-secrets run for
hours (a YAML alias bomb of a few hundred bytes, x8 per nesting level in its YAML
transformer), and a thread cannot be stopped. It runs in isolated worker processes
(:mod:`tokyo_cli.analyzers.secrets_pool`) held to the analyzer's time limit: one for fewer
than ``PARALLEL_MIN_FILES`` files, else one per CPU; a file not scanned in time is listed as
not analyzed. Building the plugins here (for the prefilter) holds
:data:`tokyo_cli.safety.masking.DETECT_SECRETS_LOCK`, as detect-secrets keeps its configuration in
a process-global singleton. Files that no
plugin can match are not scanned at all (:mod:`tokyo_cli.analyzers.secrets_prefilter`, built
from the plugins' own patterns): on the 3,000 modules of ``benchmarks/bench_security.py``,
1 file of 3,000 is scanned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun, error_reason
from tokyo_cli.analyzers.common import make_finding, whole_tree
from tokyo_cli.analyzers.secrets_pool import scan_files
from tokyo_cli.analyzers.secrets_prefilter import SecretsPrefilter
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange
from tokyo_cli.safety.masking import DETECT_SECRETS_LOCK, mask_secrets

NOISY_PLUGINS = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"})
KEYWORD_PLUGINS = frozenset({"KeywordDetector", "BasicAuthDetector"})
PARALLEL_MIN_FILES = 200  # from here on, one worker per CPU beats one worker (start-up ~0.3 s each)


class SecretsAnalyzer:
    """detect-secrets over the new content of every changed text file."""

    name = "detect-secrets"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Scan every reviewable file of ``changeset`` (not only ``files``) in the run's shard
        (``changeset.scope``); a missing detect-secrets is reported in ``error``, never raised."""
        start = time.monotonic()
        # Every added text line of the change, whatever the agent's globs: a key pasted into
        # a README or a test fixture leaks just the same.
        targets = [
            f for f in changeset.reviewable() if changeset.in_scope(f.path) and changeset.new_bytes(f.path) is not None
        ]
        if not targets:
            return AnalyzerRun(name=self.name)
        try:
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
            from detect_secrets.settings import get_plugins, transient_settings
        except ImportError as exc:
            error = f"detect-secrets unavailable: {exc}"
            return AnalyzerRun(
                name=self.name, error=error, not_analyzed=dict.fromkeys((f.path for f in targets), error_reason(error))
            )
        mapping: dict[str, type] = get_mapping_from_secret_type_to_class()
        plugins = {t: cls.__name__ for t, cls in mapping.items()}
        config = {"plugins_used": [{"name": n} for n in sorted(plugins.values()) if n not in NOISY_PLUGINS]}
        whole = whole_tree(changeset)
        parallel = len(targets) >= PARALLEL_MIN_FILES
        if not parallel:  # a few files: the prefilter here, so a clean change starts no worker
            with DETECT_SECRETS_LOCK, transient_settings(config):
                prefilter = SecretsPrefilter.for_plugins(get_plugins())
            if prefilter is not None:  # files no plugin can match are not scanned (secrets_prefilter)
                targets = [f for f in targets if prefilter.may_hold(f.path, changeset.new_bytes(f.path) or b"")]
            if not targets:
                return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        # Always in worker processes, never in this one: a hostile file (a YAML alias bomb
        # grows x8 per nesting level in detect-secrets' YAML transformer) would otherwise
        # hold tokyo past any time limit, since a thread cannot be stopped. Many files: one
        # worker per CPU, each applying the prefilter to its own share.
        return self._scan(
            changeset,
            targets,
            plugins,
            agent=agent,
            whole=whole,
            deadline=start + timeout_s,
            timeout_s=timeout_s,
            parallel=parallel,
        )

    def _scan(
        self,
        changeset: Changeset,
        targets: list[FileChange],
        plugins: dict[str, str],
        *,
        agent: str,
        whole: bool,
        deadline: float,
        timeout_s: float,
        parallel: bool,
    ) -> AnalyzerRun:
        """The scan of ``targets`` by isolated processes (:mod:`tokyo_cli.analyzers.secrets_pool`):
        with ``parallel`` one per CPU, each prefiltering its share, else one; files not
        scanned by ``deadline`` (a ``time.monotonic()`` value) are listed as not analyzed,
        with an ``error`` saying it timed out."""
        start = time.monotonic()
        used = sorted(n for n in plugins.values() if n not in NOISY_PLUGINS)
        findings: list[Finding] = []
        by_path = {f.path: f for f in targets}
        contents = {f.path: changeset.new_bytes(f.path) or b"" for f in targets}
        scan = scan_files(contents, used, deadline=deadline, workers=None if parallel else 1, prefilter=parallel)
        for path, found in scan.found.items():
            seen: set[tuple[int, str]] = set()
            for line, kind, value in found:
                plugin = plugins.get(kind, kind.replace(" ", ""))
                if not line or (line, plugin) in seen or not (whole or line in by_path[path].added_lines):
                    continue
                seen.add((line, plugin))
                findings.append(_finding(changeset, path, line, plugin, _Secret(kind, value), agent))
        error = None
        not_analyzed: dict[str, str] = {}
        if scan.missed:
            error = (
                f"detect-secrets unavailable: timed out after {timeout_s:g} s"
                if scan.timed_out
                else f"detect-secrets failed: {next(iter(scan.missed.values()))}"
            )
            not_analyzed = dict.fromkeys(scan.missed, error_reason(error))
        return AnalyzerRun(
            name=self.name, findings=findings, error=error, not_analyzed=not_analyzed, seconds=time.monotonic() - start
        )


@dataclass
class _Secret:
    """The part of detect-secrets' PotentialSecret that :func:`_finding` reads."""

    type: str
    secret_value: str


def _finding(changeset: Changeset, path: str, line: int, plugin: str, secret: Any, agent: str) -> Finding:
    keyword = plugin in KEYWORD_PLUGINS
    kind = str(secret.type)
    text = changeset.line_text(path, line)
    value = str(getattr(secret, "secret_value", "") or "")
    masked, _ = mask_secrets(text)
    if value and value in masked:  # never expected (tests/test_secret_canaries.py): still, not here
        masked = masked.replace(value, "[MASKED:secret]")
    body = (
        f"detect-secrets ({plugin}) found {_article(kind)} {kind} on this line; the value is not "
        "repeated here. A secret in the repository is readable by everyone with access to it "
        "and stays in git history after it is removed: revoke or rotate it, load it from the "
        "environment or a secret store instead, and purge it from history if it was pushed. "
        "If it is a placeholder or test value, mark the line with "
        "`# pragma: allowlist secret`."
    )
    return make_finding(
        changeset,
        path=path,
        line=line,
        severity=Severity.HIGH if keyword else Severity.CRITICAL,
        title=f"Hard-coded secret: {kind}",
        body=body,
        agent=agent,
        rule=f"detect-secrets:{plugin}",
        category="security",
        confidence=0.6 if keyword else 0.9,
        anchor_text=masked,
        cwe=[798],  # CWE-798: Use of Hard-coded Credentials
    )


def _article(noun: str) -> str:
    """ "an" before a vowel sound ("an AWS Access Key"), else "a"."""
    return "an" if noun[:1].upper() in "AEIOU" else "a"
