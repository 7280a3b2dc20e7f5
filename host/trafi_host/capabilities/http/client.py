"""Sending one checked request: pinned to the checked address, redirects re-checked, capped.

The time cap is for the whole exchange (every hop, every read): a peer that
sends one byte a second must not hold a worker past it. The module chooses
its headers except those that frame the message or speak for the connection
(the host's HTTP client sets them): letting a module send both
`Transfer-Encoding` and `Content-Length` is a request-smuggling desync.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from .policy import NetworkAllowlist, NetworkDenied, Target, parse_target

MAX_REDIRECTS = 5
# Building an SSL context loads the CA bundle (~20 ms): once per process, not per request.
_TLS = httpx.create_ssl_context()
REDIRECTS = {301, 302, 303, 307, 308}
# Framing and hop-by-hop headers (RFC 9110 7.6.1), and Host: the client's to set.
HOST_SET_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
    }
)
# Sent only to the origin the module addressed: a redirect elsewhere drops them.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})


class ResponseTooLarge(Exception):
    pass


@dataclass(frozen=True)
class FetchedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str


def _pinned_request(
    client: httpx.Client,
    allowlist: NetworkAllowlist,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[httpx.Request, Target]:
    """The request to the checked address, with the name kept for Host and TLS."""
    target, grant = allowlist.match(url)
    address = allowlist.addresses(target, grant)[0]
    host_port = f"[{address}]" if address.version == 6 else str(address)
    default_port = (target.scheme, target.port) in (("http", 80), ("https", 443))
    sent = [(k, v) for k, v in headers if k.lower() not in HOST_SET_HEADERS]
    sent.append(("host", target.host if default_port else f"{target.host}:{target.port}"))
    request = client.build_request(
        method,
        f"{target.scheme}://{host_port}:{target.port}{target.path}",
        headers=sent,
        content=body or None,
        extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
    )
    return request, target


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpx.ReadTimeout(f"the time cap passed while talking to {url}")
    return left


def _read_capped(response: httpx.Response, target: Target, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        _remaining(deadline, target.host)
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"response from {target.host} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def send_checked(
    allowlist: NetworkAllowlist,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    timeout_s: float,
    max_bytes: int,
) -> FetchedResponse:
    deadline = time.monotonic() + timeout_s
    origin = _origin(url)
    # A client per call: connections are pinned to checked addresses and never
    # shared between names (TLS verification follows the name, not the address).
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False, verify=_TLS) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if _origin(url) != origin:
                headers = [(k, v) for k, v in headers if k.lower() not in CREDENTIAL_HEADERS]
            request, target = _pinned_request(client, allowlist, method, url, headers, body)
            # Each step may take only what is left of the whole exchange's time.
            request.extensions["timeout"] = httpx.Timeout(_remaining(deadline, url)).as_dict()
            response = client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    # Every hop goes through the allowlist and address checks again.
                    url = urljoin(url, location)
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method != "GET"
                    ):
                        method, body = "GET", b""
                    continue
                content = _read_capped(response, target, max_bytes, deadline)
                headers_out = [(k.lower(), v) for k, v in response.headers.items()]
                return FetchedResponse(response.status_code, headers_out, content, url)
            finally:
                response.close()
    raise NetworkDenied(f"more than {MAX_REDIRECTS} redirects from {url}")


def _origin(url: str) -> tuple[str, str, int | None]:
    target = parse_target(url)
    return (target.scheme, target.host, target.port)
