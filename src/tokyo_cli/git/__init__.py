"""The change under review: git commands, file readers, diff parsing, targets, the
changeset and the path rules.

Layer: just above the basics; imports nothing from ``config`` or higher
(docs/ARCHITECTURE.md, "Package layout").
"""
