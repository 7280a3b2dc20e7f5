"""Errors the host returns to a module, as Python exceptions.

Every host function that can be refused raises one of these (all `HostError`s);
import them from `trafi_sdk`:

    from trafi_sdk import HostError, NotFound
"""

from __future__ import annotations


class HostError(Exception):
    """A host function refused or failed; the message says why. The base of the others.

    Catch it to answer any refusal yourself rather than with a 500:

        try:
            balance = services.call("points.balance", "get", {"customer": "c1"})
        except HostError as error:
            return Response.error(502, str(error))
    """


class AccessDenied(HostError):
    """The manifest does not grant this, or the operator did not approve it.

    A missing `permissions.kv`, `permissions.db`, a `permissions.core` scope, a
    service of a module not in `dependencies`, a URL outside `permissions.network`:

        try:
            order = commerce.get_order(order_id)
        except AccessDenied:
            log.error("add {'scope': 'orders:read'} to permissions.core")
            raise
    """


class NotFound(HostError):
    """The thing asked for does not exist (a row, a table or column, a service, an order).

    `kv.get` answers None instead of raising it:

        try:
            order = commerce.get_order(request.path_params["order"])
        except NotFound:
            return Response.error(404, "no such order")
    """


class InvalidArgument(HostError):
    """The host refused the arguments (too large, malformed, a constraint of the table).

    Example:

        try:
            reviews.insert({"product_id": "p1", "author": "ann", "rating": 9})
        except InvalidArgument as error:  # CHECK (rating BETWEEN 1 AND 5)
            return Response.error(422, str(error))
    """


class LimitExceeded(HostError):
    """A quota or size limit was reached (a kv value over 1 MiB, the table's row quota).

    Example:

        try:
            kv.set("report", big_bytes)
        except LimitExceeded:
            return Response.error(413, "report too large to keep")
    """


class Unavailable(HostError):
    """The backing service failed, or the module called is not running; retrying may work.

    Example:

        try:
            services.call("points.balance", "add", {"customer": "c1", "points": 5})
        except Unavailable:
            raise  # in an async event handler: the host delivers the event again later
    """


class NotInComponent(HostError):
    """A host import was called outside a built component (plain CPython, no test harness).

    Run handlers through `trafi_sdk.testing.ModuleHarness` in tests; it provides the
    host imports:

        harness = ModuleHarness("modules/hello")
        harness.get("/v1/hits")
    """


_BY_CASE: dict[str, type[HostError]] = {
    "HostError_AccessDenied": AccessDenied,
    "HostError_NotFound": NotFound,
    "HostError_InvalidArgument": InvalidArgument,
    "HostError_LimitExceeded": LimitExceeded,
    "HostError_Unavailable": Unavailable,
}


def is_not_found(value: object) -> bool:
    """Whether a generated `HostError_*` case is `not-found`, without building its exception."""
    return _BY_CASE.get(type(value).__name__) is NotFound


def from_wit(value: object) -> HostError:
    """Turn a generated `HostError_*` case into the matching exception."""
    cls = _BY_CASE.get(type(value).__name__, HostError)
    return cls(str(getattr(value, "value", value)))
