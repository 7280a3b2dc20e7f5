"""Tenants and API keys: every /api request carries a key, and the key fixes the tenant."""

from .api_keys import ApiKeyRecord, create_api_key, create_tenant, list_tenants, verify_api_key

__all__ = ["ApiKeyRecord", "create_api_key", "create_tenant", "list_tenants", "verify_api_key"]
