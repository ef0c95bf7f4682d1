"""Curated collections on the running registry: who may publish them, their versions, and
installing one as a single verified transaction (all or nothing) into a real venv; then a
review from that venv carries the install's download receipt (a verified install)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import AnyaError, Configuration, Hub, Installer
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.receipts import read_receipts
from anya_plugins.sources.hub import HubRequestRefused
from anya_sigstore_local import LocalSigstore
from tests.registry.hub_support import HUB_INDEX, MAINTAINER, USERS, HubIndex, set_up_hub
from tests.registry_fixtures import PUBLISHER, Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

SIGNED = ("koala-pouch", "koala-leaf")
UNSIGNED = "koala-stray"


@pytest.fixture(scope="module")
def hub(
    registry: Registry, upload: Upload, build_extension: ExtensionBuilder,
    tmp_path_factory: pytest.TempPathFactory,
) -> HubIndex:  # fmt: skip
    index = set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))
    for name in (*SIGNED, UNSIGNED):
        wheel = build_extension(ExtensionSpec(name, category="core/bitcoin", version="1.0.0"))
        done = upload(HUB_INDEX, wheel, user=MAINTAINER, password=USERS[MAINTAINER],
                      sign=name in SIGNED)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    roles = index.call("PATCH", "/roles", {"curators": ["carol"]}, user=MAINTAINER)
    assert roles.status == 200, roles.body
    return index


def curator(hub: HubIndex, user: str = "carol") -> Hub:
    return Hub(hub.registry.url, HUB_INDEX, user=user, password=USERS[user])


def configuration(registry: Registry, sigstore: LocalSigstore, root: Path) -> Configuration:
    """Install from the hub index, every file signed by the registry's publisher."""
    return Configuration(
        values={
            "sources": {
                "primary": {"url": f"{registry.url}/{HUB_INDEX}/+simple/"},
                "cache": {"dir": str(root / "cache")},
            },
            "trust": {
                "trusted_root": str(sigstore.trusted_root_path),
                "require_signatures": True,
                "publishers": [
                    {"identity": PUBLISHER, "issuer": sigstore.issuer_url, "names": ["*"]}
                ],
            },
            "audit": {"log": str(root / "audit.jsonl")},
        }
    )


@pytest.fixture
def venv(make_venv: VenvFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Venv:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    return make_venv()


def test_a_curator_publishes_versions_of_a_collection(hub: HubIndex) -> None:
    first = curator(hub).publish_collection(
        "koala-starter", title="Koala starter kit", members=["koala-pouch@>=1,<2"]
    )
    second = curator(hub).publish_collection(
        "koala-starter", title="Koala starter kit", members=["koala-pouch[metrics]", "koala-leaf"],
        description="Pouch and leaf.",
    )  # fmt: skip

    assert (first.version, second.version) == (1, 2)
    shown = Hub(hub.registry.url, HUB_INDEX).collection("koala-starter")
    assert [m.spec() for m in shown.members] == [
        "anya-ext-koala-pouch[metrics]", "anya-ext-koala-leaf",
    ]  # fmt: skip
    assert "koala-starter" in {c.name for c in Hub(hub.registry.url, HUB_INDEX).collections()}


def test_only_curators_publish_and_only_the_owner_changes_a_collection(hub: HubIndex) -> None:
    with pytest.raises(HubRequestRefused, match="HTTP 403"):
        curator(hub, "bob").publish_collection("bobs-kit", title="Bob", members=["koala-leaf"])
    curator(hub).publish_collection("carols-kit", title="Carol's", members=["koala-leaf"])
    hub.call("PATCH", "/roles", {"curators": ["carol", "alice"]}, user=MAINTAINER)

    with pytest.raises(HubRequestRefused, match="belongs to carol"):
        curator(hub, "alice").publish_collection("carols-kit", title="Mine", members=["koala-leaf"])


@pytest.mark.parametrize(
    "members", [["koala-nowhere"], ["koala-leaf@not-a-range"], ["koala-leaf", "koala-leaf"]],
    ids=["unknown-extension", "bad-range", "twice"],
)  # fmt: skip
def test_a_collection_with_an_invalid_member_is_refused(hub: HubIndex, members: list[str]) -> None:
    with pytest.raises((HubRequestRefused, AnyaError)):
        curator(hub).publish_collection("broken-kit", title="Broken", members=members)

    with pytest.raises(HubRequestRefused, match="HTTP 404"):
        Hub(hub.registry.url, HUB_INDEX).collection("broken-kit")


def test_a_collection_installs_all_or_nothing(
    hub: HubIndex, registry: Registry, local_sigstore: LocalSigstore, venv: Venv, tmp_path: Path
) -> None:
    curator(hub).publish_collection(
        "koala-mixed", title="One unsigned", members=[*SIGNED, UNSIGNED]
    )
    installer = Installer(configuration(registry, local_sigstore, tmp_path), python=venv.python)

    with pytest.raises(AnyaError) as refused:
        Hub(hub.registry.url, HUB_INDEX).install_collection("koala-mixed", installer)

    # refused for the member that failed verification: it has no signature
    assert "anya_ext_koala_stray-1.0.0" in str(refused.value)
    assert "has no signature" in str(refused.value)

    assert not {f"anya-ext-{n}" for n in (*SIGNED, UNSIGNED)} & set(venv.freeze())


def test_an_installed_collection_backs_verified_reviews(
    hub: HubIndex, registry: Registry, local_sigstore: LocalSigstore, venv: Venv, tmp_path: Path
) -> None:
    curator(hub).publish_collection("koala-signed", title="All signed", members=list(SIGNED))
    installer = Installer(configuration(registry, local_sigstore, tmp_path), python=venv.python)

    done = Hub(hub.registry.url, HUB_INDEX).install_collection("koala-signed", installer)

    assert sorted(c.name for c in done.report.changes) == sorted(f"anya-ext-{n}" for n in SIGNED)
    review = Hub(hub.registry.url, HUB_INDEX, user="alice", password=USERS["alice"]).review(
        "koala-pouch", rating=5, title="Verified", python=venv.python
    )
    assert review.review.verified
    assert review.receipt_from is not None and review.receipt_from.endswith(".whl")
    kept = read_receipts(TargetEnvironment.of(venv.python))["anya-ext-koala-pouch"]
    assert kept.download_receipt is not None
