"""A route handler's typed signature turned into what the router calls, and into its schemas.

A handler is either the plain kind, `def handler(request: Request) -> Response`,
or typed: its parameters say what it wants, by annotation or name,

    @module.post("/v1/customers/{customer}/awards")
    def award(customer: str, body: Award) -> Balance: ...

- a parameter annotated `Request` gets the request;
- one named like a path parameter gets it (`str`, or `int`: a 400 when not a number);
- one annotated with a dataclass or TypedDict (or a list / dict / optional of one) gets the
  JSON body parsed into it: a 400 naming the field when it does not match;

and what it returns, when not a `Response`, is sent as JSON (status 200). The
request and response JSON Schemas the `routes` export declares come from the
same annotations (`json_schema`).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from .http import Request, Response
from .json_schema import is_body_type, json_schema
from .typed_body import BodyError, parse

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class AdaptedHandler:
    """What the router calls, and the JSON Schemas of the body and result (None: not typed)."""

    call: Handler
    request_schema: dict[str, Any] | None
    response_schema: dict[str, Any] | None


def _hints(handler: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(handler)
    except NameError as error:
        raise TypeError(
            f"handler {handler.__qualname__}: an annotation cannot be resolved ({error}); define the "
            "types it names before the handler, at module level"
        ) from None


def _argument_maker(
    handler: Callable[..., Any], name: str, annotation: Any, path_params: set[str]
) -> tuple[Callable[[Request], Any], Any]:
    """How to get parameter `name`'s value from a request, and the body type it stands for."""
    if annotation is Request:
        return (lambda request: request), None
    if name in path_params:
        if annotation is int:

            def integer(request: Request) -> Any:
                text = request.path_params[name]
                try:
                    return int(text)
                except ValueError:
                    raise BodyError(name, f"path parameter is not an integer: {text!r}") from None

            return integer, None
        return (lambda request: request.path_params[name]), None
    if is_body_type(annotation):

        def body(request: Request) -> Any:
            if not request.body:
                raise BodyError("", "a JSON body is required")
            try:
                value = request.json()
            except ValueError as error:
                raise BodyError("", f"not JSON ({error})") from None
            return parse(value, annotation)

        return body, annotation
    raise TypeError(
        f"handler {handler.__qualname__}: parameter {name!r} is neither the Request, a path "
        "parameter of the route, nor a body type (a dataclass or TypedDict)"
    )


def _schema(handler: Callable[..., Any], annotation: Any) -> dict[str, Any]:
    try:
        return json_schema(annotation)
    except NameError as error:
        raise TypeError(
            f"handler {handler.__qualname__}: a field's annotation cannot be resolved ({error}); "
            "define the types it names at module level"
        ) from None


def _result_type(returns: Any) -> Any:
    """The JSON result's type: `returns` without `Response` (a handler may return either)."""
    if returns is None or returns is Response:
        return None
    if get_origin(returns) in (Union, types.UnionType):
        rest = [arg for arg in get_args(returns) if arg is not Response]
        if len(rest) < len(get_args(returns)):
            return None if not rest else rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
    return returns


def adapt(handler: Callable[..., Any], pattern: str, path_params: set[str]) -> AdaptedHandler:
    """The router's view of `handler` for route `pattern` (whose parameters are `path_params`)."""
    parameters = list(inspect.signature(handler).parameters.values())
    hints = _hints(handler)
    returns = _result_type(hints.get("return"))
    response_schema = _schema(handler, returns) if returns is not None and is_body_type(returns) else None
    plain = len(parameters) == 1 and hints.get(parameters[0].name, Request) is Request
    if plain and response_schema is None:
        return AdaptedHandler(handler, None, None)
    makers: list[tuple[str, Callable[[Request], Any]]] = []
    body_type: Any = None
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise TypeError(f"handler {handler.__qualname__}: *args and **kwargs are not supported")
        annotation = hints.get(parameter.name, Request if parameter.name == "request" else None)
        maker, wanted = _argument_maker(handler, parameter.name, annotation, path_params)
        if wanted is not None:
            if body_type is not None:
                raise TypeError(f"handler {handler.__qualname__}: only one parameter can take the body")
            body_type = wanted
        makers.append((parameter.name, maker))

    def call(request: Request) -> Response:
        try:
            arguments = {name: make(request) for name, make in makers}
        except BodyError as error:
            where = {"field": error.field} if error.field else {}
            return Response.error(400, f"invalid request: {error}", **where)
        result = handler(**arguments)
        return result if isinstance(result, Response) else Response.json(result)

    request_schema = _schema(handler, body_type) if body_type is not None else None
    return AdaptedHandler(call, request_schema, response_schema)


__all__ = ["AdaptedHandler", "Handler", "adapt"]
