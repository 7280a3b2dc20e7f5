"""Per-tenant rate limits on module routes: the rate text, the operator's overrides, the policy.

The limiter itself (`rate_limits.limiter`) is imported by the API only: it pulls in
the `limits` storages, which the manifest model and the CLI do not need.
"""

from .overrides import (
    EVERY_TENANT,
    UNLIMITED,
    OverrideSnapshot,
    RateOverride,
    clear_override,
    list_overrides,
    set_override,
)
from .policy import RatePolicy
from .rate import RATE_EXAMPLES, RateText, parse_rate

__all__ = [
    "EVERY_TENANT",
    "RATE_EXAMPLES",
    "UNLIMITED",
    "OverrideSnapshot",
    "RateOverride",
    "RatePolicy",
    "RateText",
    "clear_override",
    "list_overrides",
    "parse_rate",
    "set_override",
]
