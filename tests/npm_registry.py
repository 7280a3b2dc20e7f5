"""A real npm registry for tests: verdaccio, run offline on 127.0.0.1, fed with the real `npm publish`.

verdaccio is installed once per machine into `.trafi-build-cache/verdaccio/`
(gitignored) from the `package.json` that `harness_package_json()` writes, so
a fresh clone reproduces it with nothing but node and npm. Each server gets
its own config and storage in a temporary folder.

Use in a test module (or, later, conftest.py):

    npm_registry = verdaccio_fixture()          # session-scoped fixture named "npm_registry"

    def test_x(npm_registry: Verdaccio, tmp_path: Path) -> None:
        npm_registry.publish(write_package(tmp_path, "hello", "1.0.0"))
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.polling import wait_for

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".trafi-build-cache" / "verdaccio"
# 6.8.0 is the last 6.x whose engines (and its dependencies') admit node 20; 6.9+ want node 22.
VERDACCIO_VERSION = "6.8.0"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 600.0


def harness_package_json() -> dict[str, Any]:
    """What is installed: verdaccio pinned exactly; node-fetch pinned because this machine's npm
    registry lacks the `cjs` dist-tag that verdaccio's dependency range asks for."""
    return {
        "name": "trafi-test-verdaccio",
        "version": "0.0.0",
        "private": True,
        "description": "Installed by tests/npm_registry.py; not part of the project.",
        "dependencies": {"verdaccio": VERDACCIO_VERSION},
        "overrides": {"node-fetch": "2.7.0"},
    }


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on PATH; the npm-registry tests need node and npm")
    return npm


def _entry_point(install: Path) -> Path:
    return install / "node_modules" / "verdaccio" / "bin" / "verdaccio"


def ensure_verdaccio(cache: Path = CACHE) -> Path:
    """verdaccio's start script, installing it first if needed.

    Idempotent and safe when two test runs race: each installs into its own
    temporary folder beside the target and renames it into place; the folder
    name carries a hash of the package.json, so a present folder is complete
    and a change of pin installs afresh.
    """
    manifest = json.dumps(harness_package_json(), indent=2, sort_keys=True) + "\n"
    digest = hashlib.sha256(manifest.encode()).hexdigest()[:12]
    final = cache / f"{VERDACCIO_VERSION}-{digest}"
    if _entry_point(final).is_file():
        return _entry_point(final)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".installing-", dir=cache))
    work.chmod(0o755)  # mkdtemp's 0700 would follow the folder into place
    try:
        (work / "package.json").write_text(manifest)
        result = subprocess.run(
            [_npm(), "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if result.returncode != 0 or not _entry_point(work).is_file():
            raise RuntimeError(
                f"installing verdaccio {VERDACCIO_VERSION} into {work} failed "
                f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        try:
            work.rename(final)
        except OSError:
            if not _entry_point(final).is_file():  # not a lost race: something else is wrong
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _entry_point(final)


def free_port() -> int:
    """A port nothing listens on right now (so also usable as a 'closed port')."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Access rules: `@private/*` is readable only with a token; everything else is public to read.
# Publishing always needs a user. No `proxy:` anywhere and no uplinks: the server never goes out.
DEFAULT_PACKAGES: dict[str, dict[str, str]] = {
    "@private/*": {"access": "$authenticated", "publish": "$authenticated"},
    "@*/*": {"access": "$all", "publish": "$authenticated"},
    "**": {"access": "$all", "publish": "$authenticated"},
}


def verdaccio_config(root: Path, packages: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    return {
        "storage": str(root / "storage"),
        "auth": {"htpasswd": {"file": str(root / "htpasswd"), "max_users": 1000}},
        "uplinks": {},
        "packages": {pattern: dict(rules) for pattern, rules in (packages or DEFAULT_PACKAGES).items()},
        "web": {"enable": False},
        "log": {"type": "stdout", "format": "pretty", "level": "warn"},
    }


@dataclass
class Verdaccio:
    """A running server. `url` ends with '/'."""

    url: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    _token: str | None = field(default=None, repr=False)

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def log(self) -> str:
        path = self.root / "verdaccio.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def nerf_dart(self) -> str:
        return f"//127.0.0.1:{self.port}/"

    def create_user(self, name: str | None = None, password: str = "trafi-test-password") -> str:
        """A new htpasswd user; returns its bearer token."""
        name = name or f"user-{uuid.uuid4().hex[:10]}"
        response = httpx.put(
            f"{self.url}-/user/org.couchdb.user:{name}",
            json={"name": name, "password": password},
            timeout=30,
        )
        if response.status_code != 201 or "token" not in response.json():
            raise RuntimeError(f"verdaccio refused user {name}: {response.status_code} {response.text}")
        return str(response.json()["token"])

    @property
    def token(self) -> str:
        """One publishing user's token, created on first use."""
        if self._token is None:
            self._token = self.create_user()
        return self._token

    def publish(self, folder: Path, *, tag: str | None = None) -> None:
        """`npm publish` of `folder` with the real CLI. A prerelease goes under tag `next` unless told,
        as npm 11 refuses to publish one without `--tag` (and it must not become `latest`)."""
        manifest = json.loads((folder / "package.json").read_text())
        if tag is None and "-" in str(manifest.get("version", "")):
            tag = "next"
        userconfig = self.root / "publish.npmrc"
        userconfig.write_text(f"registry={self.url}\n{self.nerf_dart}:_authToken={self.token}\n")
        command = [_npm(), "publish", "--registry", self.url, "--userconfig", str(userconfig)]
        command += ["--tag", tag] if tag else []
        env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
        env["npm_config_cache"] = str(self.root / "npm-cache")  # no writes to the user's cache
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"npm publish of {folder} failed:\n{result.stdout}\n{result.stderr}")

    def tarball_path(self, name: str, version: str) -> Path:
        """Where verdaccio keeps a published tarball: storage/<name>/<basename>-<version>.tgz."""
        return self.storage / name / f"{name.rsplit('/', 1)[-1]}-{version}.tgz"

    def tamper(self, name: str, version: str, data: bytes = b"not the published bytes") -> None:
        """Replace the stored tarball, so the bytes served no longer match the registry's integrity."""
        path = self.tarball_path(name, version)
        if not path.is_file():
            raise FileNotFoundError(path)
        path.write_bytes(data)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)


def _answers_or_exited(server: Verdaccio) -> bool:
    if server.process.poll() is not None:
        return True
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{server.url}-/ping", timeout=2).status_code == 200
    return False


def start_verdaccio(root: Path, packages: Mapping[str, Mapping[str, str]] | None = None) -> Verdaccio:
    """Install if needed, then start a server with config and storage under `root`; waits until it answers."""
    entry = ensure_verdaccio()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.yaml"
    config.write_text(json.dumps(verdaccio_config(root, packages), indent=2))  # JSON is YAML
    for _attempt in range(3):  # the free port may be taken before verdaccio binds it
        port = free_port()
        with (root / "verdaccio.log").open("wb") as log:
            process = subprocess.Popen(
                ["node", str(entry), "--config", str(config), "--listen", f"127.0.0.1:{port}"],
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Verdaccio(url=f"http://127.0.0.1:{port}/", port=port, root=root, process=process)
        try:
            wait_for(
                lambda server=server: _answers_or_exited(server),
                timeout=START_TIMEOUT,
                interval=0.1,
                message=f"verdaccio to answer on port {port}",
            )
        except AssertionError as error:
            server.stop()
            raise RuntimeError(f"{error}; its log:\n{server.log}") from None
        if server.process.poll() is None:
            return server
        server.stop()  # it exited: most likely the port was taken meanwhile
    raise RuntimeError(f"verdaccio did not start; its log:\n{server.log}")


@contextlib.contextmanager
def running_verdaccio(
    root: Path, packages: Mapping[str, Mapping[str, str]] | None = None
) -> Iterator[Verdaccio]:
    server = start_verdaccio(root, packages)
    try:
        yield server
    finally:
        server.stop()


def verdaccio_fixture(
    name: str = "npm_registry", packages: Mapping[str, Mapping[str, str]] | None = None
) -> Callable[..., Iterator[Verdaccio]]:
    """A session-scoped pytest fixture yielding a running `Verdaccio`; skips when npm is missing."""

    @pytest.fixture(scope="session", name=name)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verdaccio]:
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.skip("node and npm are needed to run a local npm registry")
        with running_verdaccio(tmp_path_factory.mktemp("verdaccio"), packages) as server:
            yield server

    return fixture


def write_package(
    parent: Path,
    name: str,
    version: str,
    *,
    dependencies: Mapping[str, str] | None = None,
    files: Mapping[str, str] | None = None,
) -> Path:
    """A publishable package folder: package.json plus a trafi-module.json (and any `files`)."""
    folder = parent / f"{name.replace('/', '__')}-{version}"
    folder.mkdir(parents=True)
    contents = {"trafi-module.json": json.dumps({"name": name.rsplit("/", 1)[-1], "version": version})}
    contents.update(files or {})
    for relative, text in contents.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    package: dict[str, Any] = {"name": name, "version": version, "files": sorted(contents)}
    if dependencies:
        package["dependencies"] = dict(dependencies)
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    return folder
