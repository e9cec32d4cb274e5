"""Model calls: the gateway (the only importer of litellm, lazily), streaming, error
judgement, provider and credential rules, prices and the cost budget.

Layer: service, below ``engine`` (docs/ARCHITECTURE.md, "Package layout").
"""
