"""The networks runs paint with, built once and shared: one cache for every front end.

    networks = Networks()                       # keeps the last network built (keep=1)
    run = method.prepare(..., network=networks.get(settings))

The key is the method's `network_key` (everything in the settings that changes the network), so two runs
share a network exactly when they would have built the same one. The CLI's gallery, the batch's workers,
the video's Ray chunks and the web server's workers all hold one of these. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from . import methods


class Networks:
    """Networks by (method, key), the `keep` most recently used held."""

    def __init__(self, keep: int = 1, *, threads: int | None = None, notice: Callable[[str], None] | None = None):
        self.keep, self.threads, self.notice = keep, threads, notice
        self._held: OrderedDict = OrderedDict()
        self._lock = threading.RLock()

    @staticmethod
    def key(settings) -> tuple | None:
        """The cache key of the network `settings` paint with; None: the run must make its own."""
        own = methods.get(settings.method).network_key(settings)
        return None if own is None else (settings.method, own)

    def get(self, settings, build: bool = True):
        """The network `settings` paint with: held, or built now (`build=False`: None when not held). None too
        when it may not be shared (the run then makes its own)."""
        key = self.key(settings)
        if key is None:
            return None
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
            if not build:
                return None
            network = methods.get(settings.method).build_network(settings, notice=self.notice, threads=self.threads)
            self.put(settings, network)
            return network

    def put(self, settings, network) -> None:
        """Hold `network` (built elsewhere, e.g. by a run) for later runs with the same key."""
        key = self.key(settings)
        if key is None or network is None:
            return
        with self._lock:
            self._held[key] = network
            self._held.move_to_end(key)
            while len(self._held) > self.keep:
                self._held.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def __len__(self) -> int:
        return len(self._held)
