"""The API against the session registry: extensions published once, signed with the local
Sigstore instance through :meth:`RegistryClient.publish`, and a configuration built in code
that points at them (nothing read from the user's files)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anya_plugins import Configuration, RegistryClient, Signing
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import Registry
from tests.support import ExtensionBuilder, ExtensionSpec

RELEASER = "release@anya.example"
"""The publisher the session registry requires for anya/primary."""
INDEX = "anya/primary"


@dataclass(frozen=True)
class ApiIndex:
    registry: Registry
    sigstore: LocalSigstore

    @property
    def primary_url(self) -> str:
        return f"{self.registry.url}/{INDEX}/+simple/"

    def configuration(self, root: Path, **values: object) -> Configuration:
        """Everything in code: the session index, a cache and audit log under ``root``,
        signatures required from RELEASER as the local Sigstore vouches."""
        return Configuration(
            values={
                "sources": {
                    "primary": {"url": self.primary_url},
                    "cache": {"dir": str(root / "cache")},
                },
                "trust": {
                    "trusted_root": str(self.sigstore.trusted_root_path),
                    "require_signatures": True,
                    "publishers": [
                        {
                            "identity": RELEASER,
                            "issuer": self.sigstore.issuer_url,
                            "names": ["anya-ext-api-*"],
                        }
                    ],
                },
                "audit": {"log": str(root / "audit.jsonl")},
                **values,  # type: ignore[dict-item]
            }
        )


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log's anchors live in the data directory: a throwaway one per test."""
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def api_index(
    registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> Iterator[ApiIndex]:
    specs = [
        ExtensionSpec("api-wallet", category="core/bitcoin", version="1.0.0"),
        ExtensionSpec("api-wallet", category="core/bitcoin", version="1.1.0"),
        ExtensionSpec("api-shared", category="core/web5", version="1.0.0"),
        ExtensionSpec("api-shared", category="core/web5", version="2.0.0"),
        ExtensionSpec("api-left", category="core/web5", dependencies=("anya-ext-api-shared<2",)),
        ExtensionSpec("api-right", category="core/web5", dependencies=("anya-ext-api-shared>=2",)),
    ]
    signing = Signing(
        identity_token=local_sigstore.issue_token(RELEASER),
        trust_config=local_sigstore.trust_config_path,
    )
    RegistryClient.publish(
        [build_extension(spec) for spec in specs],
        registry_url=registry.url,
        index=INDEX,
        credentials=registry.credentials("anya"),
        signing=signing,
    )
    yield ApiIndex(registry, local_sigstore)
