"""Calling the services of modules this one depends on (`dependencies` in the manifest)."""

from __future__ import annotations

import json
from typing import Any

from . import _bindings
from .errors import from_wit


class ServiceError(Exception):
    """The called service refused the call; the message is the service's own."""


def call(target: str, method: str, payload: Any = None) -> Any:
    """`target` is `<module>.<service>`; the payload and the answer are JSON values."""
    client = _bindings.require(_bindings.wit_services, "services")
    try:
        answer: str = client.call(target, method, json.dumps(payload))
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None
    return json.loads(answer)
