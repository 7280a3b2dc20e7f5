"""A local HTTP peer for the outgoing-HTTP tests: real sockets on 127.0.0.1, nothing else."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Peer:
    port: int
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def http_peer() -> Iterator[Peer]:
    peer = Peer(0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            peer.hits.append(parts.path)
            query = parse_qs(parts.query)
            if parts.path == "/ok":
                self._send(200, b"hello from the peer")
            elif parts.path == "/host":
                self._send(200, (self.headers.get("host") or "").encode())
            elif parts.path == "/redirect":
                self.send_response(302)
                self.send_header("location", query["to"][0])
                self.send_header("content-length", "0")
                self.end_headers()
            elif parts.path == "/big":
                self._send(200, b"x" * (6 << 20))
            elif parts.path == "/slow":
                time.sleep(3)
                self._send(200, b"late")
            elif parts.path == "/drip":
                # A byte every 0.2 s: each read is quick, the whole answer is not.
                self.send_response(200)
                self.send_header("content-length", "200")
                self.end_headers()
                for _ in range(200):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif parts.path == "/headers":
                self._send(200, json.dumps([[k.lower(), v] for k, v in self.headers.items()]).encode())
            else:
                self._send(404, b"no such path")

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the host cutting a too-large or too-slow answer is the point of some tests

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    peer.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
