"""A rate is one `limits` rate, checked where it is written: manifest, project config, override."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trafi_host.manifest.model import Manifest
from trafi_host.project.config import HostSettings
from trafi_host.rate_limits import parse_rate

MANIFEST = {
    "name": "limited",
    "version": "1.0.0",
    "description": "A module with a rate limit.",
    "author": "Tests",
    "license": "MIT",
    "trafi": "^0.1.0",
    "entry": {"backend": "dist/limited.wasm"},
}


@pytest.mark.parametrize(
    ("text", "amount", "seconds"),
    [("120/minute", 120, 60), ("10 per second", 10, 1), ("1000/2 hours", 1000, 7200), (" 5/day ", 5, 86400)],
)
def test_rates_in_the_limits_syntax(text: str, amount: int, seconds: int) -> None:
    item = parse_rate(text)
    assert (item.amount, item.get_expiry()) == (amount, seconds)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("fast", "must be a rate such as '120/minute'"),
        ("5/fortnight", "found '5/fortnight'"),
        ("0/minute", "at least 1 request"),
        ("1/second;100/minute", "must be one rate, found 2"),
        ("", "must be a rate"),
    ],
)
def test_a_bad_rate_says_what_is_expected_and_what_was_found(text: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_rate(text)
    assert says in str(raised.value)


def test_the_manifest_takes_a_rate_limit() -> None:
    assert Manifest.model_validate({**MANIFEST, "rateLimit": "120/minute"}).rate_limit == "120/minute"
    assert Manifest.model_validate(MANIFEST).rate_limit is None


def test_a_bad_manifest_rate_limit_is_a_clear_error() -> None:
    with pytest.raises(ValidationError) as raised:
        Manifest.model_validate({**MANIFEST, "rateLimit": "lots"})
    [problem] = raised.value.errors()
    assert problem["loc"] == ("rateLimit",)
    assert "must be a rate such as '120/minute'" in problem["msg"] and "found 'lots'" in problem["msg"]


def test_the_project_config_takes_a_host_default() -> None:
    assert HostSettings.model_validate({"rateLimit": "600/minute"}).rate_limit == "600/minute"
    with pytest.raises(ValidationError, match="must be one rate"):
        HostSettings.model_validate({"rateLimit": "1/second;5/minute"})
