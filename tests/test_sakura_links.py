"""``doc-links`` reads Markdown with markdown-it-py (issue 14): nested fences, code spans,
indented code, reference definitions, tables and HTML, on small real git repositories."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.analyzers import links as links_mod
from tokyo_cli.analyzers.links import anchors_of, markdown_links
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import load_changeset, resolve_target

MakeRepo = Callable[..., GitRepo]

# A ````-fence that shows how to open a ``` fence: one lone ``` line inside. A line-based
# fence toggle flips here and reads the rest of the file as code (or the code as text).
NESTED = """\
# Guide

````markdown
Open a code block with:
```
````

## Setup

Run it.
"""


def _repo(make_git_repo: MakeRepo, files: dict[str, str]) -> GitRepo:
    repo = make_git_repo("links")
    for path, text in {"README.md": "# app\n\n## Usage\n\nRun it.\n", **files}.items():
        repo.write(path, text)
    repo.commit("base")
    return repo


def _run(repo: GitRepo, **target: bool) -> AnalyzerRun:
    cs = load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))
    [run] = run_analyzers(["doc-links"], cs, cs.reviewable(), agent="sakura")
    assert run.error is None, run.error
    for f in run.findings:
        assert f.severity is Severity.MEDIUM and f.category == "docs"
        assert cs.is_anchor(f.path, f.line)
    return run


def _found(run: AnalyzerRun) -> list[tuple[str, int | None, str | None]]:
    return sorted((f.path, f.line, f.rule) for f in run.findings)


def test_a_nested_fence_neither_hides_anchors_nor_links_below_it(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"docs/guide.md": NESTED})
    repo.write("docs/guide.md", NESTED + "\nSee [setup](#setup) and [the FAQ](faq.md).\n")
    repo.write("README.md", "# app\n\n## Usage\n\nStart with the [setup](docs/guide.md#setup).\n")
    assert _found(_run(repo)) == [("docs/guide.md", 12, "doc-links:missing-file")]
    repo.commit("links")
    assert _found(_run(repo, all_files=True)) == [("docs/guide.md", 12, "doc-links:missing-file")]


def test_code_is_not_checked_and_old_links_are_left_to_the_audit(make_git_repo: MakeRepo) -> None:
    old = "# Notes\n\nSee [old](gone.md).\n"
    repo = _repo(make_git_repo, {"NOTES.md": old})
    repo.write(
        "NOTES.md",
        old + "\nUse `[x](nope.md)` in text, or:\n\n    [y](nope.md)\n\n"
        "```\n[z](nope.md)\n```\n\nMore [text](#notes).\n",
    )
    assert _run(repo).findings == []
    assert _found(_run(repo, all_files=True)) == [("NOTES.md", 3, "doc-links:missing-file")]


def test_references_tables_html_and_line_numbers(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"docs/a.md": "# A\n"})
    repo.write(
        "docs/a.md",
        """\
# A

| what | where |
|------|-------|
| guide | [guide](guide.md) |

Read [the ref][r] and [again][r], a `code
span` then [back](../README.md#install).

[r]: ../README.md#usage
[bad]: missing.md

<div id="top">
<img src="img/logo.png">
</div>

Jump [up](#top), see <a href="../README.md#usage">usage</a>.
""",
    )
    assert _found(_run(repo)) == [
        ("docs/a.md", 5, "doc-links:missing-file"),
        ("docs/a.md", 8, "doc-links:missing-anchor"),
        ("docs/a.md", 11, "doc-links:missing-file"),
        ("docs/a.md", 14, "doc-links:missing-file"),
    ]


def test_anchors_of_follows_github() -> None:
    doc = (
        "# Install & run (v2)\n\nSetup\n=====\n\n## `tokyo review` options\n\n## FAQ\n\n## FAQ\n\n"
        '<a name="legacy"></a>\n\n    # not a heading\n\n```\n# nor this\n```\n'
    )
    assert anchors_of(doc) == {"install--run-v2", "setup", "tokyo-review-options", "faq", "faq-1", "legacy"}
    assert anchors_of(NESTED) == {"guide", "setup"}
    assert markdown_links("[a](x.md 'title') ![b](<y z.png>) <https://example.com>\n") == [
        (1, "x.md"),
        (1, "y z.png"),
        (1, "https://example.com"),
    ]


def test_hostile_targets_are_not_read(make_git_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(os, "symlink"):
        pytest.skip("no symlinks")
    repo = _repo(make_git_repo, {"docs/big.md": "# Big\n\n" + "text\n" * 200})
    (repo.root / "docs" / "secret.md").symlink_to(repo.root / "README.md")
    repo.commit("symlink")
    repo.write(
        "docs/index.md", "# Index\n\n[a](secret.md#usage) [b](secret.md#nope) [c](big.md#nope)\n[d](../../etc/passwd)\n"
    )
    monkeypatch.setattr(links_mod, "MAX_TARGET_BYTES", 100)
    # the symlink exists but is never read (no anchors: no verdict); big.md is over the limit
    assert _found(_run(repo)) == [("docs/index.md", 4, "doc-links:missing-file")]
    assert "outside the repository" in _run(repo).findings[0].title


def test_links_in_html_comments_and_template_placeholders_are_not_checked(make_git_repo: MakeRepo) -> None:
    """attrs' README: a cog template in an HTML comment renders sponsor logos; its
    ``src="docs/_static/sponsors/{sponsor["img"]}"`` is not a link."""
    repo = _repo(make_git_repo, {})
    repo.write(
        "README.md",
        "# app\n\n<!-- [[[cog\nfor s in sponsors:\n"
        '    print(f\'<img src="docs/{s["img"]}" />\')\n]]] -->\n'
        '<img src="docs/logo.svg" />\n<!-- [[[end]]] -->\n\n'
        "See [the page]({page_url}) and [missing](nope.md).\n",
    )
    run = _run(repo)
    assert sorted((f.line, f.title) for f in run.findings) == [
        (7, "Broken link: `docs/logo.svg` does not exist"),
        (10, "Broken link: `nope.md` does not exist"),
    ]
