"""Ctrl-C and SIGTERM handled alike: every front end keeps the best image on either.

SIGTERM comes from `kill`, `docker stop`, a CI timeout or a cluster pre-empting a job. Within
`terminate_as_interrupt()` it raises `Terminated`, a KeyboardInterrupt, so the code that saves on
Ctrl-C saves on SIGTERM too; `exit_code` gives the shell's code for each (130, 143).
"""

from __future__ import annotations

import contextlib
import signal

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 2, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, docker stop, a CI timeout, a cluster pre-empting a job): handled as Ctrl-C is."""


class Cancelled(Exception):
    """The caller asked for a stop in the middle of a long step (a web job's cancel during a frame's
    optimisation): raised between two iterations and handled as a cancel, keeping what was finished."""


def exit_code(stop: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 (128 + SIGTERM) for a termination, as shells report them."""
    return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within this block SIGTERM raises `Terminated`, so every place that keeps the best image on
    Ctrl-C keeps it on SIGTERM too. Outside the main thread (signals cannot be set there) it does nothing."""
    def terminate(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deferred_stop():
    """Collect Ctrl-C / SIGTERM raised inside the block after its work is done (the result is being
    written) instead of abandoning the write; the caller reads the list of stops afterwards."""
    stops: list[KeyboardInterrupt] = []
    handlers = {}

    def defer(signum, frame):
        stops.append(Terminated() if signum == signal.SIGTERM else KeyboardInterrupt())

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            handlers[signum] = signal.signal(signum, defer)
    except ValueError:  # not the main thread
        pass
    try:
        yield stops
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
