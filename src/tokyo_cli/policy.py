"""The severity policy: what each severity means per category, how high each category and
each analyzer rule may go, and the one order every ranked list uses.

A finding's severity is capped at its *ceiling*: the lower of its category's ceiling and its
analyzer rule's ceiling (:data:`RULE_CEILINGS`). The engine applies :func:`apply_policy` to
every finding a step produces (analyzer, model, synthesis, and a model's re-rating of an
analyzer finding), so a tool's default severity or a model's enthusiasm never outranks the
policy. The README's "Severity policy" table is :func:`policy_markdown` (a test keeps the two
equal).

Ranking (:func:`rank_key`): security and correctness findings first, then everything else;
within each, by severity, then confidence, then how many agents raised the finding, then
path and line. Terminal, Markdown, JSON, SARIF, GitHub inline-comment slots and the TUI all
sort with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokyo_cli.findings import Finding, Severity


@dataclass(frozen=True)
class CategoryPolicy:
    """One row of the policy: a category, the spellings that mean it, its ceiling, and what
    each severity up to that ceiling means in it."""

    name: str
    aliases: frozenset[str]
    ceiling: Severity
    meaning: str
    first: bool = False  # ranked ahead of the rest (security, correctness)


CATEGORIES: tuple[CategoryPolicy, ...] = (
    CategoryPolicy(
        "security",
        frozenset(
            {
                "security",
                "vulnerability",
                "secrets",
                "secret",
                "auth",
                "authentication",
                "authorization",
                "injection",
                "crypto",
                "cryptography",
                "privacy",
                "supply-chain",
                "supply chain",
            }
        ),
        Severity.CRITICAL,
        "critical: exploitable as shipped or a live secret; high: exploitable under common conditions; "
        "medium: a weakness that needs an unusual condition; low: hardening",
        first=True,
    ),
    CategoryPolicy(
        "correctness",
        frozenset(
            {
                "correctness",
                "bug",
                "bugs",
                "logic",
                "error-handling",
                "error handling",
                "concurrency",
                "race",
                "race-condition",
                "data-loss",
                "data loss",
                "api-contract",
                "compatibility",
                "resource-leak",
            }
        ),
        Severity.CRITICAL,
        "critical: data loss or corruption on a normal path; high: wrong result or crash on a common path; "
        "medium: wrong on an edge case; low: a latent defect",
        first=True,
    ),
    CategoryPolicy(
        "operations",
        frozenset(
            {
                "ci",
                "config",
                "configuration",
                "container",
                "reliability",
                "performance",
                "deployment",
                "observability",
                "devops",
                "infrastructure",
                "sre",
            }
        ),
        Severity.HIGH,
        "high: breaks a build, deploy or service; medium: degrades it or makes it fragile; low: a hardening step",
    ),
    CategoryPolicy(
        "architecture",
        frozenset({"architecture", "design", "maintainability", "complexity", "structure", "dependencies", "coupling"}),
        Severity.MEDIUM,
        "medium: a new import cycle or a layering break; low: complexity or size that makes the code harder to change",
    ),
    CategoryPolicy(
        "tests",
        frozenset({"tests", "test", "testing", "coverage"}),
        Severity.HIGH,
        "high: a test that can no longer fail (every assertion removed); medium: a deleted test, fewer "
        "assertions, a skip without a reason; low: code no test exercises, a test without assertions",
    ),
    CategoryPolicy(
        "docs",
        frozenset({"docs", "documentation", "doc", "docstring", "readme"}),
        Severity.MEDIUM,
        "medium: documentation that is wrong (a broken link or anchor, an example that fails); "
        "low: documentation that is missing (a docstring, an option the README does not mention)",
    ),
    CategoryPolicy(
        "style",
        frozenset({"style", "naming", "formatting", "nit", "readability"}),
        Severity.LOW,
        "low at most: style is never a reason to block a change",
    ),
)
GENERAL = CategoryPolicy(
    "general", frozenset({"general", ""}), Severity.HIGH, "any category not listed above: high at most"
)

_BY_ALIAS: dict[str, CategoryPolicy] = {alias: c for c in CATEGORIES for alias in c.aliases}

# Analyzer rules whose ceiling is below their category's, each with its reason. A rule matches
# exactly or by prefix up to ":" ("readme-mentions" covers "readme-mentions:env").
RULE_CEILINGS: dict[str, tuple[Severity, str]] = {
    "docstrings:missing": (Severity.LOW, "missing documentation, not wrong documentation"),
    "readme-mentions": (Severity.LOW, "missing documentation, not wrong documentation"),
    "test-gaps:untested": (Severity.LOW, "a name heuristic: no changed test names the code"),
    "test-gaps:no-tests": (Severity.LOW, "one note per change for a repository without tests"),
    "test-gaps:no-assertion": (Severity.LOW, "a new test that only fails on a crash"),
    "test-gaps:uncovered": (Severity.MEDIUM, "measured: coverage data shows changed lines no test runs"),
    "test-gaps:coverage-unreadable": (Severity.LOW, "a note that the coverage data could not be used"),
    "module-size": (Severity.LOW, "size alone is not a defect"),
    "complexity": (Severity.LOW, "complexity alone is not a defect"),
}


def category_policy(category: str) -> CategoryPolicy:
    """The policy row for a category as analyzers and models spell it ("Security",
    "error-handling", "bug"); unknown spellings get :data:`GENERAL`."""
    key = category.strip().lower().replace("_", "-")
    return _BY_ALIAS.get(key) or _BY_ALIAS.get(key.replace("-", " ")) or GENERAL


def rule_ceiling(rule: str | None) -> Severity | None:
    """The ceiling :data:`RULE_CEILINGS` sets for ``rule`` ("test-gaps:untested"), if any."""
    if not rule:
        return None
    if rule in RULE_CEILINGS:
        return RULE_CEILINGS[rule][0]
    family = rule.split(":", 1)[0]
    entry = RULE_CEILINGS.get(family)
    return entry[0] if entry else None


def ceiling(finding: Finding) -> Severity:
    """The highest severity the policy allows ``finding``: its category's ceiling, lowered
    by its rule's ceiling."""
    top = category_policy(finding.category).ceiling
    rule_top = rule_ceiling(finding.rule)
    if rule_top is not None and rule_top.rank < top.rank:
        top = rule_top
    return top


def apply_policy(finding: Finding) -> Finding:
    """``finding`` capped at :func:`ceiling` (a copy when lowered, itself otherwise). The
    fingerprint does not depend on severity, so the ledger is unaffected."""
    top = ceiling(finding)
    if finding.severity.rank <= top.rank:
        return finding
    return finding.model_copy(update={"severity": top})


def is_first(finding: Finding) -> bool:
    """True for security and correctness findings, which every ranked list shows first."""
    return category_policy(finding.category).first


def rank_key(f: Finding) -> tuple[int, int, float, int, str, int, str]:
    """Sort key of every ranked list: security/correctness first, then severity (most severe
    first), confidence (highest first; unknown counts as 0.5), agents that raised it (most
    first), path, line and title."""
    confidence = f.confidence if f.confidence is not None else 0.5
    return (0 if is_first(f) else 1, -f.severity.rank, -confidence, -len(f.agents), f.path, f.line or 0, f.title)


def policy_markdown() -> str:
    """The policy as the Markdown table the README shows (category, ceiling, meaning), then
    the rule ceilings."""
    rows = ["| Category | Also spelled | Highest | What each severity means |", "|---|---|---|---|"]
    for c in (*CATEGORIES, GENERAL):
        spellings = ", ".join(sorted(a for a in c.aliases if a and a != c.name))
        rows.append(f"| {c.name} | {spellings} | {c.ceiling.value} | {c.meaning} |")
    rows += ["", "| Analyzer rule | Highest | Why |", "|---|---|---|"]
    for rule, (sev, why) in RULE_CEILINGS.items():
        rows.append(f"| `{rule}` | {sev.value} | {why} |")
    return "\n".join(rows)
