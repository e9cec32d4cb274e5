"""Leaving the process at once, without interpreter teardown, and without losing a write.

A run that imported litellm spends 1-2 s after its last output in interpreter teardown
(freeing litellm's module graph, ~1.2 s even for a bare ``import litellm`` script). Nothing
of that is work a user waits for, so the console script ends with :func:`leave`: it does
what a normal exit would do that matters — wait for non-daemon threads, run the ``atexit``
handlers (temporary directories, ``weakref.finalize`` callbacks, logging, coverage data),
close the history databases, flush stdout and stderr — then ``os._exit``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

FLUSH_FAILED = 120
"""The exit code CPython itself uses when flushing stdout/stderr at exit fails
(``Py_RunMain``: a failed ``Py_FinalizeEx`` exits 120), e.g. a closed pipe."""


def finish(code: int) -> int:
    """Do every part of a normal exit that can lose or delay a write, in CPython's order
    (``Py_FinalizeEx``), and return the exit code to leave with: ``code``, or
    :data:`FLUSH_FAILED` when stdout or stderr could not be flushed. Never raises.

    Only for a process about to exit: it runs ``threading._shutdown`` (the threading atexit
    calls, which tell idle executor workers to stop, then a join of every non-daemon
    thread), which marks the main thread stopped.
    """
    shutdown = getattr(threading, "_shutdown", None)
    if callable(shutdown):
        shutdown()
    else:  # not CPython's threading: join what a normal exit would
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
    try:
        atexit._run_exitfuncs()
    except Exception:  # noqa: BLE001 - atexit reports a failing handler itself and goes on
        pass
    if "tokyo_cli.store.db" in sys.modules:  # a command that never opened one need not import it
        from tokyo_cli.store.db import close_all

        close_all()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream
            code = FLUSH_FAILED
    return code


def leave(code: int) -> NoReturn:
    """Exit the process with ``code`` after :func:`finish`, skipping interpreter teardown
    (``os._exit``). Only for the console script: a caller that runs tokyo in-process (tests,
    another program) gets ``SystemExit`` from :func:`tokyo_cli.cli.app.main` instead."""
    os._exit(finish(code))
