"""Which outgoing requests a module may make: the manifest's allowlist, and no private addresses.

Checked in this order, before any byte is sent: the URL's scheme, host and port
against `permissions.network`; then every address the host name resolves to
against the private ranges (loopback, RFC 1918, ...), unless the matching
entry names that address as its host or sets `allowPrivate`; link-local and
cloud metadata addresses are refused whatever the entry says. The connection
then goes to the checked address, so a second DNS answer cannot swap it (DNS
rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from .grant import NetworkGrant

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba
}


class NetworkDenied(Exception):
    """The request is not allowed; the message says which part and why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NetworkDenied(f"scheme {scheme or '(none)'!r} is not http or https: {url}")
    if parts.username or parts.password:
        raise NetworkDenied("credentials in the URL are not allowed; send an Authorization header")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise NetworkDenied(f"no host in {url!r}")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise NetworkDenied(f"bad port in {url!r}") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path)


def _host_matches(pattern: str, host: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern[2:]
    return host == pattern


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_private(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_private(address.ipv4_mapped)
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10"))
    )


def is_never_reachable(address: IPAddress) -> bool:
    """Cloud metadata and link-local addresses: credentials live there; no grant opens them."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_never_reachable(address.ipv4_mapped)
    return address in METADATA_ADDRESSES or address.is_link_local


class NetworkAllowlist:
    def __init__(self, grants: list[NetworkGrant]) -> None:
        self.grants = grants

    def match(self, url: str) -> tuple[Target, NetworkGrant]:
        target = parse_target(url)
        hosts = [g for g in self.grants if _host_matches(g.host, target.host)]
        if not hosts:
            raise NetworkDenied(f"host {target.host!r} is not in permissions.network")
        schemes = [g for g in hosts if target.scheme in g.schemes]
        if not schemes:
            raise NetworkDenied(f"scheme {target.scheme!r} is not allowed for {target.host}")
        ports = [g for g in schemes if target.port in g.ports]
        if not ports:
            raise NetworkDenied(f"port {target.port} is not allowed for {target.host}")
        return target, ports[0]

    def addresses(self, target: Target, grant: NetworkGrant) -> list[IPAddress]:
        """The addresses to connect to, every one of them checked."""
        literal = _literal(target.host)
        if literal is not None:
            found = [literal]
        else:
            try:
                infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
            except socket.gaierror as error:
                raise NetworkDenied(f"cannot resolve {target.host!r}: {error.strerror}") from None
            found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        for address in found:
            if is_never_reachable(address):
                raise NetworkDenied(
                    f"{target.host} resolves to {address}, a link-local or cloud metadata address: "
                    "never reachable from a module, whatever the grant"
                )
            named = _literal(grant.host) == address
            if is_private(address) and not (named or grant.allow_private):
                raise NetworkDenied(
                    f"{target.host} resolves to {address}, a private or special address; "
                    "only an entry naming it (or with allowPrivate) may reach it"
                )
        return found
