"""Calling the services of modules this one depends on (`dependencies` in the manifest).

from trafi_sdk import services

balance = services.call("points.balance", "get", {"customer": "c1"})
"""

from __future__ import annotations

import json
from typing import Any

from . import _bindings
from .errors import from_wit

__all__ = ["call"]


class ServiceError(Exception):
    """The called service refused the call; the message is the service's own."""


def call(target: str, method: str, payload: Any = None) -> Any:
    """`target` is `<module>.<service>`; the payload and the answer are JSON values.

    The call runs for the caller's tenant. `AccessDenied` when the module is not in
    `dependencies`, `NotFound` when it offers no such service, `Unavailable` when it
    is not running, `InvalidArgument` with the service's own message when it refuses.

        try:
            balance = services.call("points.balance", "add", {"customer": "c1", "points": 5})
        except InvalidArgument as refusal:
            return Response.error(422, str(refusal))
    """
    client = _bindings.require(_bindings.wit_services, "services")
    try:
        answer: str = client.call(target, method, json.dumps(payload))
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
    return json.loads(answer)
