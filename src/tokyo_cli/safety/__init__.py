"""Trust-boundary primitives: isolated analyzer subprocesses, reading the working tree
without following symlinks, the one secret detector, terminal-safe text.

Layer: the lowest; imports nothing else from tokyo_cli
(docs/ARCHITECTURE.md, "Package layout").
"""
