"""The detect-secrets prefilter (analyzers/secrets_prefilter.py): a file it skips is a file
where detect-secrets' own ``scan_file`` reports nothing, checked on planted secrets of every
format and on every text file of this repository; and anything it does not cover makes it
step aside (every file scanned)."""

from __future__ import annotations

import re
from pathlib import Path

import detect_secrets.settings as ds_settings
import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import scan_file

from test_secret_canaries import planted_files
from tokyo_cli.analyzers.secrets import NOISY_PLUGINS
from tokyo_cli.analyzers.secrets_prefilter import SecretsPrefilter
from tokyo_cli.safety.masking import DETECT_SECRETS_LOCK

REPO = Path(__file__).resolve().parents[1]
CLEAN_MODULE = b'''"""Helpers for items."""
from flask import request


def slug(text: str) -> str:
    return "-".join(part for part in text.lower().split() if part)


def show():
    return slug(request.args.get("q", ""))
'''


def _plugins() -> list[str]:
    classes = get_mapping_from_secret_type_to_class().values()
    return sorted(c.__name__ for c in classes if c.__name__ not in NOISY_PLUGINS)


def _compare(tmp_path: Path, files: dict[str, bytes]) -> tuple[int, int, int]:
    """(files, files the prefilter skipped, files with a finding); fails on a skipped file
    detect-secrets reports anything in."""
    skipped = found = 0
    with DETECT_SECRETS_LOCK, ds_settings.transient_settings({"plugins_used": [{"name": n} for n in _plugins()]}):
        pre = SecretsPrefilter.for_plugins(ds_settings.get_plugins())
        assert pre is not None, "the prefilter covers detect-secrets' own plugins"
        for rel, data in files.items():
            dest = tmp_path / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            secrets = list(scan_file(str(dest)))
            found += bool(secrets)
            if not pre.may_hold(rel, data):
                skipped += 1
                assert secrets == [], f"{rel}: skipped, but detect-secrets reports {secrets}"
    return len(files), skipped, found


def test_planted_secrets_of_every_format_are_never_skipped(tmp_path: Path) -> None:
    planted = planted_files()
    files = {path: text.encode() for path, text in planted.items()}
    # Each planted line alone in a Python module too: one format per file.
    lines = [line for text in planted.values() for line in text.splitlines()]
    for i, line in enumerate(lines):
        files[f"one/m{i}.py"] = (line + "\n").encode()
    files["clean/items.py"] = CLEAN_MODULE
    total, skipped, found = _compare(tmp_path, files)
    assert found >= 30 and skipped >= 1, (total, skipped, found)


@pytest.mark.slow
def test_no_text_file_of_this_repository_is_skipped_wrongly(tmp_path: Path) -> None:
    """Real files nobody wrote for this test: the sources, tests and docs of this repository
    (test fixtures full of key-shaped strings among them)."""
    files: dict[str, bytes] = {}
    for base in ("src", "tests", "docs", "benchmarks"):
        for path in sorted((REPO / base).rglob("*")):
            if (
                path.is_file()
                and not path.is_symlink()
                and "__pycache__" not in path.parts
                and path.stat().st_size < 200_000
            ):
                files[path.relative_to(REPO).as_posix()] = path.read_bytes()
    total, skipped, found = _compare(tmp_path, files)
    assert total >= 300 and skipped >= 50 and found >= 5, (total, skipped, found)


def test_config_files_and_unknown_types_are_checked_on_the_lines_detect_secrets_reads(tmp_path: Path) -> None:
    """A file of type OTHER gets detect-secrets' eager config pass, which writes
    ``key: value`` as ``key = "value"``: AWS's secret-key pattern needs those quotes, so a
    search of the raw text alone would skip this file; the prefilter reads the same passes."""
    aws_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example  # pragma: allowlist secret
    unquoted = f"aws_key: {aws_value}\n".encode()
    with DETECT_SECRETS_LOCK, ds_settings.transient_settings({"plugins_used": [{"name": n} for n in _plugins()]}):
        pre = SecretsPrefilter.for_plugins(ds_settings.get_plugins())
        assert pre is not None
        (tmp_path / "notes").write_bytes(unquoted)
        assert [s.type for s in scan_file(str(tmp_path / "notes"))] == ["AWS Access Key"]
    assert unquoted.find(b'"') == -1
    assert pre.may_hold("notes", unquoted)
    assert not pre.may_hold("notes", b"just some words: and a value\n")
    assert not pre.may_hold("app/items.py", CLEAN_MODULE)
    assert not pre.may_hold("settings.ini", b"[db]\nhost = x\n")
    assert pre.may_hold("settings.ini", b"[db]\npassword = hunter2-is-weak\n")
    assert pre.may_hold("app/latin.py", b"x = '\xe9'\n")  # not UTF-8: detect-secrets decides
    assert pre.may_hold("app/k.py", b"db_password_hint = hint()\n")  # a keyword


def test_hostile_yaml_and_interpolation_never_reach_the_transformers_here() -> None:
    """A YAML alias bomb (detect-secrets' YAML transformer walks every alias: x8 per level)
    and configparser interpolation go to the scan (time-limited, in worker processes for
    large changes) without being parsed in tokyo's own process."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    bomb = ("\n".join(lines) + "\n").encode()
    with DETECT_SECRETS_LOCK, ds_settings.transient_settings({"plugins_used": [{"name": n} for n in _plugins()]}):
        pre = SecretsPrefilter.for_plugins(ds_settings.get_plugins())
    assert pre is not None
    assert pre.may_hold("deploy/bomb.yaml", bomb)
    assert pre.may_hold("notes", b"[a]\nx = %(y)s%(y)s\ny = words\n")
    assert not pre.may_hold("notes", b"[a]\nx = words\n")


def test_anything_not_covered_makes_the_prefilter_step_aside() -> None:
    from detect_secrets.plugins.base import RegexBasedDetector

    class Anchored(RegexBasedDetector):
        secret_type = "anchored"
        denylist = (re.compile(r"\Atoken-[a-z]{8}"),)

    class BlankLookbehind(RegexBasedDetector):
        secret_type = "blank"
        denylist = (re.compile(r"(?<!\s)tok-[a-z]{8}"),)

    class Custom:
        pass

    assert SecretsPrefilter.for_plugins([Anchored()]) is None
    assert SecretsPrefilter.for_plugins([BlankLookbehind()]) is None
    assert SecretsPrefilter.for_plugins([Custom()]) is None
    assert SecretsPrefilter.for_plugins([]) == SecretsPrefilter(None, ())


def test_required_literals_are_read_from_the_pattern_and_never_guess() -> None:
    from tokyo_cli.analyzers.secrets_prefilter import required_literals

    def lits(pattern: str, flags: int = 0) -> set[str] | None:
        found = required_literals(re.compile(pattern, flags))
        return None if found is None else set(found)

    assert lits(r"(?:A3T[A-Z0-9]|AKIA|ASIA)[0-9A-Z]{16}") == {"3T", "KIA", "SIA"}
    assert lits(r"BEGIN RSA PRIVATE KEY") == {"BEGIN RSA PRIVATE KEY"}
    assert lits(r"x{0,3}y(?:ab)+") == {"ab"}  # the longer of the two required parts
    assert lits(r"(?:_|-|)key") == {"key"}  # an empty branch gives nothing; the literal after it does
    assert lits(r"(?:ab|)") is None and lits(r"[a-z]+\d") is None and lits(r"(a)\1") == {"a"}
    assert lits(r"pre(?=post)") == {"pre"}  # a lookahead is not a literal of the match
    assert lits(r"tok(?i:EN)") == {"tok"}  # a group with its own flags gives nothing
    assert lits(r"Secret|PASS", re.IGNORECASE) == {"secret", "pass"}  # searched in lower-cased text
    assert lits(r"contraseña|pwd", re.IGNORECASE) == {"pwd"}  # no ASCII text holds "ñ"
    assert lits("\u017fecret", re.IGNORECASE) is None  # long s folds to "s": no shortcut


def test_gated_patterns_decide_as_the_patterns_alone() -> None:
    # The literal shortcut only skips searches that could not match: on mixed-case, ASCII and
    # non-ASCII text (where an IGNORECASE pattern's shortcut is off), the same answers.
    from tokyo_cli.analyzers.secrets_prefilter import _Gated

    texts = ["api_KEY = 1", "ApI-kEy", "no match here", "clé = 'x'", "SECRET", "\u017fecret = 1", "Kelvin \u212aey"]
    for pattern, flags in [
        (r"(api_?key|secret)", re.IGNORECASE),
        (r"(?:(?<=\W)|(?<=^))(?:\[|)(?:key|pwd)", re.IGNORECASE),
        (r"AKIA[0-9A-Z]{4}", 0),
        (r"s\w+t", re.IGNORECASE),
    ]:
        gated = _Gated.of(re.compile(pattern, flags))
        for text in texts:
            lowered = text.lower() if text.isascii() else None
            assert gated.search(text, lowered) == (re.search(pattern, text, flags) is not None), (pattern, text)
