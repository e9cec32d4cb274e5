"""The names tokyo ships: its analyzers (with the class each name loads) and its report formats.

Plugins may add, never take one of these (:mod:`tokyo_cli.plugins`). The analyzer registry
lives here, below the config layer, so the plugin loader can refuse a built-in name without
importing the analyzers; :mod:`tokyo_cli.analyzers.base` imports each class on first use.
"""

from __future__ import annotations

# name -> "module:class"
ANALYZERS: dict[str, str] = {
    # akira (security)
    "bandit": "tokyo_cli.analyzers.bandit:BanditAnalyzer",
    "detect-secrets": "tokyo_cli.analyzers.secrets:SecretsAnalyzer",
    "semgrep": "tokyo_cli.analyzers.semgrep:SemgrepAnalyzer",
    # yuki (tests)
    "test-gaps": "tokyo_cli.analyzers.tests_gap:TestGapAnalyzer",
    # hiro (CI, containers, config)
    "zizmor": "tokyo_cli.analyzers.actions:ZizmorAnalyzer",
    "hadolint": "tokyo_cli.analyzers.dockerfile:HadolintAnalyzer",
    "dockerfile": "tokyo_cli.analyzers.dockerfile:DockerfileAnalyzer",
    "config-syntax": "tokyo_cli.analyzers.yamlcheck:ConfigSyntaxAnalyzer",
    # sakura (docs)
    "docstrings": "tokyo_cli.analyzers.docs:DocstringAnalyzer",
    "readme-mentions": "tokyo_cli.analyzers.docs:ReadmeMentionAnalyzer",
    "doc-links": "tokyo_cli.analyzers.links:DocLinkAnalyzer",
    # kenji (architecture)
    "import-cycles": "tokyo_cli.analyzers.imports:ImportCycleAnalyzer",
    "complexity": "tokyo_cli.analyzers.complexity:ComplexityAnalyzer",
    "module-size": "tokyo_cli.analyzers.size:ModuleSizeAnalyzer",
}

FORMATS = ("terminal", "markdown", "json", "sarif")
"""The report formats tokyo ships."""
