"""Identity: tenants, API keys with scopes, users with roles, sessions and tokens, permissions."""

from .api_keys import (
    ApiKeyRecord,
    create_api_key,
    create_tenant,
    list_tenants,
    revoke_api_key,
    verify_api_key,
)
from .caller import Caller
from .key_cache import VerifiedKeyCache

__all__ = [
    "ApiKeyRecord",
    "Caller",
    "VerifiedKeyCache",
    "create_api_key",
    "create_tenant",
    "list_tenants",
    "revoke_api_key",
    "verify_api_key",
]
