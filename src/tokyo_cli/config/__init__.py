"""What shapes a run: the team, workflows, YAML loading with limits, the user's settings
and the reviewed repository's own (untrusted) configuration.

Layer: above ``git``, below the services (docs/ARCHITECTURE.md, "Package layout").
"""
