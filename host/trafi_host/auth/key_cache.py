"""A short-lived cache of verified API keys, so a request does not always cost a query.

Entries live `ttl` seconds: a revoked key stops working within that time on
every host process. Keyed by the sha256 of the presented key, never the key.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from .api_keys import ApiKeyRecord


class VerifiedKeyCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, ApiKeyRecord]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> ApiKeyRecord | None:
        key = self._key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, token: str, record: ApiKeyRecord) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[self._key(token)] = (time.monotonic() + self.ttl, record)
            self._entries.move_to_end(self._key(token))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
