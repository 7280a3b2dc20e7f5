"""The operator's overrides: stored per (module, tenant), audited, and the most specific one wins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import api_keys
from trafi_host.audit_log import AuditLog
from trafi_host.db import Database
from trafi_host.errors import TrafiError
from trafi_host.rate_limits import (
    OverrideSnapshot,
    RatePolicy,
    clear_override,
    list_overrides,
    set_override,
)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    api_keys(database_url, "acme", "globex")
    with Database(database_url) as database:
        yield database


def test_set_list_and_clear_are_audited(database: Database) -> None:
    set_override(database, "hello", "10/minute", "acme", actor="ops")
    set_override(database, "hello", "20/minute", "acme", actor="ops")
    set_override(database, "hello", "100/minute", actor="ops")
    assert [(o.module, o.tenant, o.rate, o.changed_by) for o in list_overrides(database)] == [
        ("hello", "*", "100/minute", "ops"),
        ("hello", "acme", "20/minute", "ops"),
    ]
    assert clear_override(database, "hello", "acme", actor="ops") == "20/minute"
    assert [(o.tenant, o.rate) for o in list_overrides(database, "hello")] == [("*", "100/minute")]
    entries = [(e.actor, e.module, e.action, e.detail) for e in AuditLog(database).entries("hello")]
    assert entries == [
        ("ops", "hello", "rate-limit-cleared", "tenant acme: was 20/minute"),
        ("ops", "hello", "rate-limit-set", "every tenant: 100/minute"),
        ("ops", "hello", "rate-limit-set", "tenant acme: 20/minute (was 10/minute)"),
        ("ops", "hello", "rate-limit-set", "tenant acme: 10/minute"),
    ]


@pytest.mark.parametrize(
    ("module", "rate", "tenant", "says"),
    [
        ("hello", "quick", "acme", "rate limit of hello for tenant acme: must be a rate such as"),
        ("hello", "5/minute", "nobody", "no tenant 'nobody'"),
        ("Hello World", "5/minute", "acme", "is not a module name"),
    ],
)
def test_a_bad_override_is_refused_and_changes_nothing(
    database: Database, module: str, rate: str, tenant: str, says: str
) -> None:
    with pytest.raises(TrafiError, match=says):
        set_override(database, module, rate, tenant)
    assert list_overrides(database) == []
    assert not [e for e in AuditLog(database).entries() if e.action.startswith("rate-limit")]


def test_clearing_what_is_not_there_is_an_error(database: Database) -> None:
    with pytest.raises(TrafiError, match="no rate limit override of hello for tenant acme"):
        clear_override(database, "hello", "acme")


def test_the_most_specific_rate_wins(database: Database) -> None:
    policy = RatePolicy(OverrideSnapshot(database), host_default="1000/minute")
    policy.overrides.reload()
    assert policy.rate_for("hello", "acme", None) == "1000/minute"  # the host's default
    assert policy.rate_for("hello", "acme", "60/minute") == "60/minute"  # the manifest's
    set_override(database, "hello", "30/minute")
    set_override(database, "hello", "5/minute", "acme")
    set_override(database, "hello", "unlimited", "globex")
    assert policy.rate_for("hello", "acme", "60/minute") == "60/minute"  # not reloaded yet
    assert policy.overrides.reload() is True
    assert policy.overrides.reload() is False
    assert policy.rate_for("hello", "acme", "60/minute") == "5/minute"  # the tenant's own
    assert policy.rate_for("hello", "initech", "60/minute") == "30/minute"  # the module's `*`
    assert policy.rate_for("hello", "globex", "60/minute") is None  # lifted
    assert policy.rate_for("other", "acme", None) == "1000/minute"  # another module: untouched
