"""One real devpi-server for the whole session, with the shipped layout applied to it (the
fixtures are registered in tests/conftest.py, so every test folder shares the one server).

The server is the embedded registry (``anya_plugins.registry.server``) on 127.0.0.1 and a
free port; uploads go through twine exactly as an author's release would. As a site brings
the default registry up, its signed indexes (``anya/primary``, ``community/verified``) take
releases signed by one publisher: :data:`PUBLISHER` on the session's local Sigstore, whose
root the server trusts.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from anya_plugins.registry.devpi import ApplyReport, Credentials, DevpiClient, apply_layout
from anya_plugins.registry.layout import IndexPublisher, Layout, load_layout
from anya_plugins.registry.publishers import with_publishers
from anya_sigstore_local import LocalSigstore
from tests.support import REPO
from tests.upstream_index import (
    StaticIndex,
    serve_static_index,
    upstream_wheels,
    write_simple_index,
)

LAYOUT_FILE = REPO / "index-config" / "layout.toml"

PASSWORDS = {
    "anya": "core-team-password",
    "community": "community-password",
    "acme": "acme-password",
}
ENVIRON = {f"ANYA_REGISTRY_{user.upper()}_PASSWORD": pw for user, pw in PASSWORDS.items()}
"""The environment the shipped layout reads its passwords (and its upstream URL) from."""
UPSTREAM_ENV = "ANYA_REGISTRY_UPSTREAM_URL"
"""Where the shipped layout's upstream mirror points: in tests, never the internet."""
PUBLISHER = "release@anya.example"
"""The identity the session registry's signed indexes take releases from."""


@dataclass(frozen=True)
class Registry:
    """The session's running registry and what setting it up reported."""

    url: str
    state_dir: Path
    admin: Credentials
    layout: Layout
    first_apply: ApplyReport
    upstream: StaticIndex
    """The local stand-in for PyPI that the layout's ``anya/upstream`` mirror points at."""
    sigstore: LocalSigstore
    """The Sigstore instance whose root the server trusts for signed uploads."""
    publisher: IndexPublisher
    """Who signs the releases of the signed indexes (:data:`PUBLISHER` on ``sigstore``)."""

    def simple_url(self, index: str, user: str | None = None) -> str:
        """The index's simple API root, with ``user``'s password in it (for pip and uv)."""
        if user is None:
            return f"{self.url}/{index}/+simple/"
        password = self.admin.password if user == self.admin.user else PASSWORDS[user]
        scheme, _, host = self.url.partition("://")
        return f"{scheme}://{user}:{password}@{host}/{index}/+simple/"

    def trust_env(self) -> dict[str, str]:
        """anya-ext settings that verify what the signed indexes serve: this registry's trust
        root and its publisher, for every name (whether signatures are required is not set)."""
        publisher = (
            f'[{{identity = "{self.publisher.identity}", '
            f'issuer = "{self.publisher.issuer}", names = ["*"]}}]'
        )
        return {
            "ANYA_TRUST__TRUSTED_ROOT": str(self.sigstore.trusted_root_path),
            "ANYA_TRUST__PUBLISHERS": publisher,
        }

    def signing_options(self) -> list[str]:
        """``anya-ext publish`` options that sign as this registry's publisher."""
        return [
            "--trust-config", str(self.sigstore.trust_config_path),
            "--identity-token", self.sigstore.issue_token(self.publisher.identity),
        ]  # fmt: skip

    def requires_signatures(self, index: str) -> bool:
        return any(spec.name == index and spec.require_signatures for spec in self.layout.indexes)

    def credentials(self, user: str) -> Credentials:
        return Credentials(user, PASSWORDS[user])

    def client(self, user: str | None = None) -> DevpiClient:
        """A client signed in as ``user`` (root for "root"), anonymous for None."""
        client = DevpiClient(self.url)
        if user == self.admin.user:
            client.login(self.admin)
        elif user is not None:
            client.login(self.credentials(user))
        return client


class Upload(Protocol):
    def __call__(
        self,
        index: str,
        *files: Path,
        user: str | None,
        password: str | None = None,
        options: Sequence[str] = (),
        sign: bool | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture(scope="session")
def registry(
    tmp_path_factory: pytest.TempPathFactory, local_sigstore: LocalSigstore
) -> Iterator[Registry]:
    from anya_plugins.registry import server

    upstream_root = tmp_path_factory.mktemp("upstream")
    wheels = upstream_wheels(tmp_path_factory.mktemp("upstream-wheels"))
    write_simple_index(upstream_root, wheels)
    state_dir = tmp_path_factory.mktemp("registry")
    with serve_static_index(upstream_root) as upstream_url:
        running = server.start(state_dir, trusted_root=local_sigstore.trusted_root_path)
        try:
            publisher = IndexPublisher(PUBLISHER, local_sigstore.issuer_url)
            layout = with_publishers(load_layout(LAYOUT_FILE), (publisher,))
            # Every later apply_layout(..., environ=ENVIRON) keeps the mirror pointing here.
            ENVIRON[UPSTREAM_ENV] = upstream_url
            report = apply_layout(running.url, layout, running.admin, environ=ENVIRON)
            upstream = StaticIndex(upstream_url, wheels)
            yield Registry(
                running.url, state_dir, running.admin, layout, report, upstream,
                local_sigstore, publisher,
            )  # fmt: skip
        finally:
            server.stop(state_dir)


@pytest.fixture(scope="session")
def upload(registry: Registry) -> Upload:
    """``twine upload`` of files to an index as a user (None: no credentials at all).

    ``options`` go to twine (e.g. ``--attestations``, which sends each file's
    ``<file>.*.attestation`` files given among ``files``). ``sign``: attest each file as the
    registry's publisher; by default, as a release would be, exactly when the index requires
    signatures.
    """

    def run(
        index: str,
        *files: Path,
        user: str | None,
        password: str | None = None,
        options: Sequence[str] = (),
        sign: bool | None = None,
    ) -> subprocess.CompletedProcess[str]:
        signed = registry.requires_signatures(index) if sign is None else sign
        if signed:
            dists = [f for f in files if not f.name.endswith(".attestation")]
            attestations = [
                attest(registry.sigstore, f, registry.publisher.identity) for f in dists
            ]
            files = (*files, *attestations)
            options = (*options, "--attestations") if "--attestations" not in options else options
        if user is None:
            credentials = ["-u", "", "-p", ""]
        else:
            credentials = ["-u", user, "-p", password or PASSWORDS[user]]
        return subprocess.run(
            [
                sys.executable, "-m", "twine", "upload", "--non-interactive",
                "--disable-progress-bar", "--repository-url", f"{registry.url}/{index}/",
                *credentials, *options, *(str(f) for f in files),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(registry.state_dir)},
        )  # fmt: skip

    return run


def metadata_wheel(
    directory: Path,
    name: str,
    *,
    version: str = "0.1.0",
    summary: str = "An Anya extension.",
    category: str = "community/experimental",
    keywords: Sequence[str] = (),
) -> Path:
    """A wheel holding only its METADATA, which is all an index reads of it.

    For uploads whose summary or keywords matter; the extension template gives every
    extension the same summary. The host API range is the template's.
    """
    contract = (
        "anya-extension",
        f"anya-category:{category}",
        "anya-host-api:>=1.0",
        "anya-host-api:<2",
    )
    dist = name.replace("-", "_")
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    text = (
        f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
        f"Keywords: {','.join((*keywords, *contract))}\n"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{dist}-{version}.dist-info/METADATA", text)
    return path


def attest(sigstore: LocalSigstore, path: Path, identity: str) -> Path:
    """Sign a PEP 740 publish attestation of ``path`` as ``identity`` on ``sigstore``, to
    ``<path>.publish.attestation`` (where twine looks); each call signs anew."""
    from pypi_attestations import Attestation, Distribution
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    token = IdentityToken(sigstore.issue_token(identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        attestation = Attestation.sign(signer, Distribution.from_file(path))
    target = path.with_name(path.name + ".publish.attestation")
    target.write_text(attestation.model_dump_json())
    return target
