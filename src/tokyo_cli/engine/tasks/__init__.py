"""Step tasks beyond ``review`` and ``synthesize`` (docs/ARCHITECTURE.md, "The team and workflows").

Each module holds one task's prompt, reply model (pydantic, validated like review replies,
with the same one repair retry in :mod:`tokyo_cli.engine.calls`) and the pure functions the engine
calls; the engine runs them in DAG order with the same budget, cache and fault handling:

* :mod:`tokyo_cli.engine.tasks.verify`: cross-examination of upstream findings (keep, correct, reject).
"""
