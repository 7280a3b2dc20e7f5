"""Which rate applies to a tenant's requests on a module, and how many requests it refused.

Most specific first: the operator's override for the (module, tenant), the
operator's override for the module and every tenant (`*`), the manifest's
`rateLimit`, the project's `host.rateLimit`; none of them: no limit. An
override of `unlimited` lifts the limit.
"""

from __future__ import annotations

import threading
from collections import Counter

from .overrides import UNLIMITED, OverrideSnapshot


class RatePolicy:
    def __init__(self, overrides: OverrideSnapshot, host_default: str | None = None) -> None:
        self.overrides = overrides
        self.host_default = host_default
        self._rejected: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def rate_for(self, module: str, tenant: str, manifest_rate: str | None) -> str | None:
        """The rate of `tenant` on `module` (None: unlimited)."""
        override = self.overrides.rate(module, tenant)
        if override is not None:
            return None if override == UNLIMITED else override
        return manifest_rate or self.host_default

    def count_rejection(self, module: str, tenant: str) -> None:
        with self._lock:
            self._rejected[(module, tenant)] += 1

    def rejections(self) -> dict[tuple[str, str], int]:
        """Requests refused with 429 in this process, per (module, tenant)."""
        with self._lock:
            return dict(self._rejected)
