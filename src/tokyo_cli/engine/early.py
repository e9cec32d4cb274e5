"""Start the litellm import at the very start of a command that will need it.

Kept apart from :mod:`tokyo_cli.engine.review` (whose own imports take ~0.3 s of the GIL) so
that a command can start the import before it loads anything else: ``import litellm`` is the
longest single piece of a cold run, and every tenth of a second it starts earlier is a tenth
off the first provider request (issue 17; ``benchmarks/bench_cold.py``).

Layer: engine (docs/ARCHITECTURE.md, "Package layout").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokyo_cli.config.settings import Settings

SEED_PROVIDERS = ("anthropic", "openai", "groq", "gemini")  # the packaged team's providers


def start_import_early(settings: Settings) -> bool:
    """Start the litellm import (:func:`tokyo_cli.llm.gateway.preload`) before the change is even
    read, when no call of the run can come from the response cache: the run may go online
    (``api_base``, or a key of one of the packaged team's providers is set) and the cache is
    off or there is no history database yet (a first run). Returns True when it started it.

    Anything less certain waits for the engine, which knows the change
    (:meth:`tokyo_cli.engine.runner.Engine._warm_gateway`): a cached re-run never imports litellm.
    Never raises for an unusable path (the run reports that later).
    """
    from tokyo_cli.llm.providers import provider_has_credentials

    if settings.offline:
        return False
    keyed = any(provider_has_credentials(p) for p in SEED_PROVIDERS)
    if not (settings.api_base or keyed):
        return False
    if settings.cache:
        from tokyo_cli.config.userconfig import default_history_path

        path = settings.db_path() or default_history_path()
        if path.exists():
            return False
    from tokyo_cli.llm.gateway import preload

    preload()
    return True
