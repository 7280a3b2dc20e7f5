"""Tenants and API keys: every /api request carries a key, and the key fixes the tenant."""

from .api_keys import (
    ApiKeyRecord,
    create_api_key,
    create_tenant,
    list_tenants,
    revoke_api_key,
    verify_api_key,
)
from .key_cache import VerifiedKeyCache

__all__ = [
    "ApiKeyRecord",
    "VerifiedKeyCache",
    "create_api_key",
    "create_tenant",
    "list_tenants",
    "revoke_api_key",
    "verify_api_key",
]
