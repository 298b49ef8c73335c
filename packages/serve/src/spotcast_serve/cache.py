"""Answers cached until the store changes.

A forecast changes once a day, but the API is asked many times a second. Each cached answer
remembers a cheap *store token*: for the local backend the inode, size and modification time
of the DuckDB file and its write-ahead log (every commit appends to the log; a checkpoint
rewrites the file), read with two ``stat`` calls and no DuckDB connection. A request whose
token differs recomputes. Because the token is taken *before* the answer is computed, a
commit landing during the computation makes the next request recompute, never serve stale
data for long. ``max_age`` bounds an entry's life anyway (file times are coarse), and for
backends without a file it is the only expiry. An entry past ``max_age`` whose token is
unchanged is still served while one background thread recomputes it, so the periodic
refresh never makes a client wait (a changed token always waits for the new answer).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


def project_token(project: Any) -> Callable[[], Hashable]:
    """The store's own change token where it has one (a backend without one: only ``max_age``)."""
    token = getattr(project, "change_token", None)
    return token if callable(token) else (lambda: None)


@dataclass
class _Entry:
    token: Hashable
    at: float
    value: Any


class StoreCache:
    """``get(key, compute)``: the cached value while the store token is unchanged and the
    entry is younger than ``max_age`` seconds; one computation per key at a time."""

    def __init__(self, token: Callable[[], Hashable], max_age: float = 5.0, max_entries: int = 1024) -> None:
        self.token = token
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: dict[Hashable, _Entry] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self._refreshing: set[Hashable] = set()
        self.hits = 0
        self.misses = 0

    def peek(self, key: Hashable, compute: Callable[[], Any] | None = None) -> Any | None:
        """The cached value or None, without waiting (cheap: for async handlers).

        An entry older than ``max_age`` with an unchanged token is returned while a
        background refresh runs (when ``compute`` is given); a changed token gives None.
        """
        if self.max_age <= 0:  # caching off
            return None
        e = self._entries.get(key)
        if e is None or e.token != self.token():
            return None
        if time.monotonic() - e.at >= self.max_age:
            if compute is None:
                return None
            self._refresh_in_background(key, compute)
        self.hits += 1
        return e.value

    def _refresh_in_background(self, key: Hashable, compute: Callable[[], Any]) -> None:
        with self._guard:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def run() -> None:
            try:
                self._compute(key, compute)
            finally:
                with self._guard:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name="spotcast-cache-refresh", daemon=True).start()

    def _compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        token = self.token()
        value = compute()
        self.misses += 1
        with self._guard:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = _Entry(token, time.monotonic(), value)
        return value

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The fresh value, computing it (once per key at a time) when missing or outdated."""
        value = self.peek(key, compute)
        if value is not None:
            return value
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            value = self.peek(key, compute)  # another thread may have computed it meanwhile
            if value is not None:
                return value
            return self._compute(key, compute)

    def discard(self, key: Hashable) -> None:
        with self._guard:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
