"""npm sources: specs parsed like npm, settings read like npm, tarballs fetched and verified.

The registry tests run against a real verdaccio on 127.0.0.1 (tests/npm_registry.py),
fed with the real `npm publish`; nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.npm_registry import Verdaccio, free_port, write_package
from trafi_host.sources.npm import (
    FetchedNpm,
    NpmSourceError,
    NpmSpec,
    RegistryConfig,
    fetch_npm,
    nerf_dart,
    parse_npm_spec,
    resolve_version,
)

# --- specs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "name", "version_range"),
    [
        ("hello", "hello", "latest"),
        ("hello@^1.2", "hello", "^1.2"),
        ("hello@1.2.3", "hello", "1.2.3"),
        ("hello@next", "hello", "next"),
        ("hello@>=1 <2", "hello", ">=1 <2"),
        ("hello@", "hello", "latest"),
        ("@scope/hello", "@scope/hello", "latest"),
        ("@scope/hello@1.2.3", "@scope/hello", "1.2.3"),
        ("npm:hello@1", "hello", "1"),
        ("npm:@scope/hello@~2.0", "@scope/hello", "~2.0"),
        ("my-module.v2_x", "my-module.v2_x", "latest"),
    ],
)
def test_specs_parse(spec: str, name: str, version_range: str) -> None:
    assert parse_npm_spec(spec) == NpmSpec(name=name, range=version_range, spec=spec)


@pytest.mark.parametrize(
    "spec",
    [
        "./hello",
        "../hello",
        "/abs/hello",
        "~/hello",
        ".",
        "hello.tgz",
        "hello-1.0.0.tar.gz",
        "file:hello",
        "github:owner/repo",
        "git+https://example.com/repo.git",
        "https://example.com/hello.tgz",
        "owner/repo",
        "C:\\modules\\hello",
    ],
)
def test_paths_archives_and_git_specs_are_not_npm(spec: str) -> None:
    assert parse_npm_spec(spec) is None


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("Hello", "lowercase"),
        ("_hello", "cannot start with"),
        (".hello", None),  # not a path (no slash): an invalid name
        ("a" * 215, "at most 214"),
        ("hel~lo", "only a-z"),
        ("hel lo", "only a-z"),
        ("@Scope/hello", "lowercase"),
        ("@scope/", "'@scope/name'"),
        ("@/hello", "'@scope/name'"),
        ("@scope/a/b", "only a-z"),
        ("node_modules", "reserved"),
        ("npm:./hello", "cannot start with"),
        ("npm:", "empty"),
        ("hello@not a range!", "neither a semver range nor a dist-tag"),
    ],
)
def test_invalid_names_are_errors(spec: str, reason: str | None) -> None:
    with pytest.raises(NpmSourceError) as caught:
        parse_npm_spec(spec)
    if reason is not None:
        assert reason in str(caught.value)


# --- settings --------------------------------------------------------------------------------------


def npmrc(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".npmrc").write_text(text)
    return folder


def test_defaults_without_any_settings(tmp_path: Path) -> None:
    config = RegistryConfig.load(tmp_path, env={})
    assert config == RegistryConfig(
        default="https://registry.npmjs.org/", scoped={}, tokens={}, origins=config.origins
    )
    assert config.registry_for("@any/thing") == "https://registry.npmjs.org/"


def test_env_over_project_over_user(tmp_path: Path) -> None:
    home = npmrc(
        tmp_path / "home",
        "registry=https://user.example/\n@acme:registry=https://user-acme.example\n@solo:registry=https://solo.example/\n",
    )
    project = npmrc(
        tmp_path / "project", "registry=https://project.example/npm/\n@acme:registry=https://acme.example/\n"
    )
    env = {"HOME": str(home)}

    config = RegistryConfig.load(project, env=env)
    assert config.default == "https://project.example/npm/"
    assert config.registry_for("hello") == "https://project.example/npm/"
    assert config.registry_for("@acme/x") == "https://acme.example/"
    assert config.registry_for("@solo/x") == "https://solo.example/"
    assert config.registry_for("@other/x") == "https://project.example/npm/"
    assert config.origins["registry"] == f"{project / '.npmrc'} line 1"

    assert RegistryConfig.load(None, env=env).default == "https://user.example/"
    with_env = RegistryConfig.load(project, env={**env, "TRAFI_NPM_REGISTRY": "http://127.0.0.1:9/r"})
    assert with_env.default == "http://127.0.0.1:9/r/"
    assert with_env.registry_for("@acme/x") == "https://acme.example/"


def test_tokens_match_the_longest_nerf_dart_prefix(tmp_path: Path) -> None:
    project = npmrc(
        tmp_path,
        "; a comment\n"
        "# another\n"
        "//r.example/:_authToken=host-wide\n"
        "//r.example/private/:_authToken=private\n"
        '//r.example:8443/:_authToken="on-another-port"\n'
        "//other.example/npm:_authToken=no-trailing-slash\n",
    )
    config = RegistryConfig.load(project, env={})
    assert config.token_for("https://r.example/hello") == "host-wide"
    assert config.token_for("https://r.example/private/hello") == "private"
    assert config.token_for("https://r.example/private/hello/-/hello-1.0.0.tgz") == "private"
    assert config.token_for("http://R.EXAMPLE:80/privateer/x") == "host-wide"  # not "private/"
    assert config.token_for("https://r.example:8443/hello") == "on-another-port"
    assert config.token_for("https://r.example.evil/hello") is None
    assert config.token_for("https://other.example/npm/hello") == "no-trailing-slash"
    assert config.token_for("https://elsewhere.example/hello") is None
    assert nerf_dart("https://user:pw@r.example:443/a/b/c.tgz?x=1#y") == "//r.example/a/b/"


def test_env_references_expand_like_npm(tmp_path: Path) -> None:
    project = npmrc(
        tmp_path,
        "registry=https://${HOSTNAME_X}/\n"
        "//${HOSTNAME_X}/:_authToken=${NPM_TOKEN_X}\n"
        "//unset.example/:_authToken=${UNSET_X}\n"
        "//optional.example/:_authToken=${UNSET_X?}\n"
        "//escaped.example/:_authToken=\\${NPM_TOKEN_X}\n",
    )
    config = RegistryConfig.load(project, env={"HOSTNAME_X": "r.example", "NPM_TOKEN_X": "s3cret"})
    assert config.default == "https://r.example/"
    assert config.token_for("https://r.example/hello") == "s3cret"
    assert config.token_for("https://unset.example/x") == "${UNSET_X}"
    assert config.token_for("https://optional.example/x") == ""
    assert config.token_for("https://escaped.example/x") == "${NPM_TOKEN_X}"


def test_env_token_is_for_the_default_registry(tmp_path: Path) -> None:
    project = npmrc(tmp_path, "registry=https://r.example/npm/\n//r.example/npm/:_authToken=from-file\n")
    config = RegistryConfig.load(project, env={"TRAFI_NPM_TOKEN": "from-env"})
    assert config.token_for("https://r.example/npm/hello") == "from-env"
    assert config.token_for("https://r.example/other") is None
    assert config.origins["//r.example/npm/"] == "env TRAFI_NPM_TOKEN"


def test_a_bad_registry_url_names_its_file_and_line(tmp_path: Path) -> None:
    project = npmrc(tmp_path, "\n@acme:registry=ftp://files.example/\n")
    with pytest.raises(NpmSourceError, match=r"\.npmrc line 2: registry 'ftp://files.example/'"):
        RegistryConfig.load(project, env={})


# --- version resolution ----------------------------------------------------------------------------


def packument(*versions: str, **tags: str) -> dict[str, Any]:
    return {
        "name": "hello",
        "dist-tags": tags,
        "versions": {version: {"version": version} for version in versions},
    }


def test_versions_resolve_like_npm() -> None:
    doc = packument("1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0-beta.1", latest="1.0.0", next="2.0.0-beta.1")
    assert resolve_version(doc, "latest") == "1.0.0"  # the tag, not the highest
    assert resolve_version(doc, "next") == "2.0.0-beta.1"
    assert resolve_version(doc, "^1.0.0") == "1.1.0"  # no prerelease unless named
    assert resolve_version(doc, "*") == "1.1.0"
    assert resolve_version(doc, "1.0.0") == "1.0.0"
    assert resolve_version(doc, "^1.2.0-rc.0") == "1.2.0-rc.1"
    assert resolve_version(packument("1.0.0", "1.1.0"), "latest") == "1.1.0"  # no tags at all


def test_no_match_lists_versions_capped() -> None:
    doc = packument(*(f"1.{minor}.0" for minor in range(30)), latest="1.29.0")
    with pytest.raises(NpmSourceError) as caught:
        resolve_version(doc, "^2", registry="https://r.example/")
    message = str(caught.value)
    assert "no version of hello matches '^2' at https://r.example/" in message
    assert "1.29.0, 1.28.0" in message
    assert "(and 10 more)" in message
    assert "latest=1.29.0" in message
    assert "1.0.0," not in message


def test_malformed_versions_and_dangling_tags_are_refused() -> None:
    doc = packument("1.0.0", "../../1.0.1", latest="9.9.9", evil="../../1.0.1")
    assert resolve_version(doc, "*") == "1.0.0"
    for tag in ("latest", "evil"):
        with pytest.raises(NpmSourceError, match="not a published version"):
            resolve_version(doc, tag)


# --- protocol details, against an in-process registry --------------------------------------------


def tgz(tmp_path: Path, files: dict[str, str]) -> bytes:
    archive = tmp_path / "built.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in files.items():
            source = tmp_path / "src" / name
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_text(text)
            tar.add(source, arcname=f"package/{name}")
    return archive.read_bytes()


def test_full_json_fallback_and_sha1_shasum(tmp_path: Path) -> None:
    """A registry that refuses the abbreviated document and only states a sha1 shasum still works."""
    data = tgz(tmp_path, {"trafi-module.json": "{}"})
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/hello":
            seen.append(request.headers["accept"])
            if "vnd.npm.install-v1" in request.headers["accept"]:
                return httpx.Response(406)
            dist = {"tarball": "/hello/-/hello-1.0.0.tgz", "shasum": hashlib.sha1(data).hexdigest()}
            return httpx.Response(
                200, json={"name": "hello", "versions": {"1.0.0": {"dist": dist, "dependencies": {"a": "1"}}}}
            )
        return httpx.Response(200, content=data)

    config = RegistryConfig(default="https://r.example/", scoped={}, tokens={})
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        fetched = fetch_npm(NpmSpec("hello", "latest", "hello"), config, tmp_path / "into", client=client)
    assert len(seen) == 2 and seen[1] == "application/json"
    assert fetched.integrity == "sha1-" + base64.b64encode(hashlib.sha1(data).digest()).decode()
    assert fetched.tarball.read_bytes() == data
    assert fetched.dependencies == {"a": "1"}


def test_a_registry_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        config = RegistryConfig(default=url, scoped={}, tokens={})
        with pytest.raises(NpmSourceError, match=f"npm registry {url} timed out while fetching hello"):
            fetch_npm(NpmSpec("hello", "latest", "hello"), config, tmp_path / "into", timeout=0.3)
    assert not (tmp_path / "into").exists()


# --- against a real registry -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(npm_registry: Verdaccio, tmp_path_factory: pytest.TempPathFactory) -> Verdaccio:
    packages = tmp_path_factory.mktemp("packages")
    npm_registry.publish(write_package(packages, "hello", "1.0.0"))
    npm_registry.publish(write_package(packages, "hello", "1.1.0", dependencies={"left-pad": "^1.3.0"}))
    npm_registry.publish(write_package(packages, "hello", "2.0.0-beta.1"))
    npm_registry.publish(write_package(packages, "@acme/x", "1.0.0"))
    npm_registry.publish(write_package(packages, "@private/secret", "1.0.0"))
    npm_registry.publish(write_package(packages, "tampered", "1.0.0"))
    npm_registry.tamper("tampered", "1.0.0")
    return npm_registry


@pytest.fixture
def into(tmp_path: Path) -> Path:
    folder = tmp_path / "into"
    folder.mkdir()
    return folder


def public(server: Verdaccio) -> RegistryConfig:
    return RegistryConfig(default=server.url, scoped={}, tokens={})


def fetch(server: Verdaccio, spec: str, into: Path, **kwargs: Any) -> FetchedNpm:
    parsed = parse_npm_spec(spec)
    assert parsed is not None
    return fetch_npm(parsed, kwargs.pop("config", None) or public(server), into, **kwargs)


def sri(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "version"),
    [("hello", "1.1.0"), ("hello@^1.0.0", "1.1.0"), ("hello@1.0.0", "1.0.0"), ("hello@next", "2.0.0-beta.1")],
)
def test_versions_resolve_and_download(published: Verdaccio, into: Path, spec: str, version: str) -> None:
    fetched = fetch(published, spec, into)
    assert (fetched.name, fetched.version) == ("hello", version)
    assert fetched.tarball == into / f"hello-{version}.tgz"
    assert list(into.iterdir()) == [fetched.tarball]
    assert fetched.integrity == sri(fetched.tarball)
    assert fetched.resolved == f"hello@{version}#{fetched.integrity}"
    with tarfile.open(fetched.tarball) as tar:
        manifest = json.load(tar.extractfile("package/trafi-module.json"))  # type: ignore[arg-type]
    assert manifest["version"] == version


@pytest.mark.slow
def test_dependencies_come_from_the_version_entry(published: Verdaccio, into: Path) -> None:
    assert fetch(published, "hello@1.1.0", into).dependencies == {"left-pad": "^1.3.0"}
    assert fetch(published, "hello@1.0.0", into).dependencies == {}


@pytest.mark.slow
def test_a_scoped_package_through_its_scope_registry(
    published: Verdaccio, tmp_path: Path, into: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"  # the default registry is not even up
    project = npmrc(tmp_path / "project", f"registry={closed}\n@acme:registry={published.url}\n")
    config = RegistryConfig.load(project, env={})
    fetched = fetch(published, "@acme/x@^1", into, config=config)
    assert (fetched.name, fetched.version) == ("@acme/x", "1.0.0")
    assert fetched.tarball.name == "acme-x-1.0.0.tgz"
    assert fetched.resolved.startswith("@acme/x@1.0.0#sha512-")


@pytest.mark.slow
def test_lock_file_integrity_is_enforced(published: Verdaccio, tmp_path: Path) -> None:
    first = fetch(published, "hello@1.1.0", tmp_path / "first")
    again = fetch(published, "hello@1.1.0", tmp_path / "again", integrity=first.integrity)
    assert again.integrity == first.integrity
    assert again.tarball.read_bytes() == first.tarball.read_bytes()

    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"something else").digest()).decode()
    with pytest.raises(NpmSourceError) as caught:
        fetch(published, "hello@1.1.0", tmp_path / "wrong", integrity=wrong)
    assert str(caught.value).startswith(f"integrity check failed for hello@1.1.0: expected {wrong}")
    assert f"got {first.integrity}" in str(caught.value)
    assert not any((tmp_path / "wrong").glob("*"))


@pytest.mark.slow
def test_a_tampered_tarball_is_refused_and_nothing_is_left(published: Verdaccio, into: Path) -> None:
    with pytest.raises(NpmSourceError) as caught:
        fetch(published, "tampered", into)
    message = str(caught.value)
    assert message.startswith("integrity check failed for tampered@1.0.0: expected sha512-")
    assert ", got sha512-" in message
    assert list(into.iterdir()) == []


@pytest.mark.slow
def test_a_tarball_over_the_cap_is_refused(published: Verdaccio, into: Path) -> None:
    with pytest.raises(
        NpmSourceError, match=f"tarball of hello@1.1.0 from {published.url} is over the 64 byte cap"
    ):
        fetch(published, "hello", into, max_bytes=64)
    assert list(into.iterdir()) == []


@pytest.mark.slow
def test_unknown_package(published: Verdaccio, into: Path) -> None:
    with pytest.raises(NpmSourceError, match=f"unknown package no-such-module at registry {published.url}"):
        fetch(published, "no-such-module", into)


@pytest.mark.slow
def test_no_matching_version_lists_the_versions(published: Verdaccio, into: Path) -> None:
    with pytest.raises(NpmSourceError) as caught:
        fetch(published, "hello@^3", into)
    assert str(caught.value) == (
        f"no version of hello matches '^3' at {published.url}; "
        "available: 2.0.0-beta.1, 1.1.0, 1.0.0; dist-tags: latest=1.1.0, next=2.0.0-beta.1"
    )
    assert list(into.iterdir()) == []


@pytest.mark.slow
def test_unreachable_registry(into: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    config = RegistryConfig(default=url, scoped={}, tokens={})
    with pytest.raises(NpmSourceError, match=f"npm registry {url} unreachable while fetching hello"):
        fetch_npm(NpmSpec("hello", "latest", "hello"), config, into)


@pytest.mark.slow
def test_a_private_package_needs_a_token(published: Verdaccio, tmp_path: Path, into: Path) -> None:
    with pytest.raises(NpmSourceError) as caught:
        fetch(published, "@private/secret", into)
    message = str(caught.value)
    assert f"registry {published.url} refused @private/secret (HTTP 401)" in message
    assert f"'{published.nerf_dart}:_authToken=...'" in message
    assert list(into.iterdir()) == []

    bad = RegistryConfig.load(tmp_path, env={"TRAFI_NPM_REGISTRY": published.url, "TRAFI_NPM_TOKEN": "nope"})
    with pytest.raises(
        NpmSourceError, match=r"the token for .* \(from env TRAFI_NPM_TOKEN\) is not accepted"
    ):
        fetch(published, "@private/secret", into, config=bad)

    project = npmrc(
        tmp_path / "project",
        f"@private:registry={published.url}\n{published.nerf_dart}:_authToken=${{MY_NPM_TOKEN}}\n",
    )
    config = RegistryConfig.load(project, env={"MY_NPM_TOKEN": published.token})
    fetched = fetch(published, "@private/secret", into, config=config)
    assert (fetched.name, fetched.version) == ("@private/secret", "1.0.0")
    assert fetched.integrity == sri(fetched.tarball)
