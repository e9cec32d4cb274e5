"""One review, end to end: the step DAG runner and its helpers (packing, prompts, model
calls, response cache, grouping, coverage), ``review`` (the entry every edge calls),
the live run view and ``tokyo eval``.

Layer: below the edges, above the services (docs/ARCHITECTURE.md, "Package layout").
"""
