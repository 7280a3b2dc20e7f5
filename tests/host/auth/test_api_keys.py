"""API keys: shown once, stored as a hash, verified in constant shape, revocable; the
verified-key cache forgets within its time to live."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from trafi_host.auth import create_api_key, create_tenant, verify_api_key
from trafi_host.auth.api_keys import revoke_api_key
from trafi_host.auth.key_cache import VerifiedKeyCache
from trafi_host.db import Database
from trafi_host.db.schema import ApiKey
from trafi_host.errors import AuthError, TrafiError


@pytest.fixture
def database(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    create_tenant(database, "acme")
    return database


def test_only_a_hash_of_the_secret_is_stored(database: Database) -> None:
    key, record = create_api_key(database, "acme", "ci")
    # trafi_<key id>_<secret>: the secret is url-safe base64, which may itself hold "_".
    prefix, key_id, secret = key.split("_", 2)
    assert (prefix, key_id) == ("trafi", record.key_id) and len(secret) >= 40
    with database.session() as session:
        row = session.scalars(select(ApiKey)).one()
    assert row.key_id == record.key_id and secret not in row.secret_hash
    assert verify_api_key(database, key).tenant_id == "acme"
    database.close()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), "unknown API key"),
        (lambda key: "trafi_0000000000000000_" + key.split("_", 2)[2], "unknown API key"),
        (lambda key: "Bearer " + key, "malformed API key"),
    ],
)
def test_a_wrong_key_is_refused_with_a_reason(database: Database, tamper: object, message: str) -> None:
    key, _ = create_api_key(database, "acme")
    with pytest.raises(AuthError, match=message):
        verify_api_key(database, tamper(key))  # type: ignore[operator]
    database.close()


def test_a_revoked_key_is_refused(database: Database) -> None:
    key, record = create_api_key(database, "acme")
    revoke_api_key(database, record.key_id)
    with pytest.raises(AuthError, match="revoked"):
        verify_api_key(database, key)
    database.close()


def test_a_key_needs_an_existing_tenant(database: Database) -> None:
    with pytest.raises(TrafiError, match="no tenant 'globex'"):
        create_api_key(database, "globex")
    database.close()


def test_the_cache_forgets_after_its_time_to_live(database: Database) -> None:
    key, record = create_api_key(database, "acme")
    cache = VerifiedKeyCache(ttl=0)
    cache.put(key, record)
    assert cache.get(key) is None  # a zero TTL caches nothing: revocation is immediate
    cache = VerifiedKeyCache(ttl=60)
    cache.put(key, record)
    assert cache.get(key) == record
    cache.clear()
    assert cache.get(key) is None
    database.close()
