"""``[trust] offline = true``: verification against the public-good root with no network at all,
and a root older than ``max_root_age_days`` refused with a message that says why.

The signed evidence is real: the PEP 740 provenance PyPI serves for
``gcb_attestation_test-0.0.0.tar.gz`` (published from Google Cloud Build, logged on the
public-good Rekor in April 2025; a test asset of pypi/pypi-attestations, Apache-2.0). Its
statement names the file's sha256, so the file itself is not needed.

Each network check runs in a child process whose proxy variables point at a listener on
127.0.0.1 that counts connections (sigstore's TUF client honours them) and whose sigstore
directories are empty: offline, the listener must see nothing and no TUF metadata may appear.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.trust.errors import StaleTrustedRoot
from anya_plugins.trust.policy import parse_trust_policy
from anya_plugins.trust.roots import PUBLIC_GOOD_TUF_URL, newest_validity_start
from anya_plugins.trust.verification import verify_digest
from tests.support import REPO

ASSETS = Path(__file__).parent / "assets"
PROVENANCE = ASSETS / "gcb_attestation_test-0.0.0.tar.gz.provenance"
FILENAME = "gcb_attestation_test-0.0.0.tar.gz"
SHA256 = "461317362419124b6012e855423a9078d6de8aed3e74fa78cc74d669b23dc6cf"
PUBLISHER = {
    "identity": "919436158236-compute@developer.gserviceaccount.com",
    "issuer": "https://accounts.google.com",
    "names": ["gcb-attestation-test"],
}

VERIFY = """
import json, sys
from pathlib import Path
from anya_plugins.errors import AnyaError
from anya_plugins.trust.policy import parse_trust_policy
from anya_plugins.trust.verification import verify_digest

section, provenance, filename, sha256 = json.loads(sys.argv[1]), *sys.argv[2:]
try:
    decision = verify_digest(
        filename, sha256, bundle=None, attestation=Path(provenance).read_bytes(),
        dist_name="gcb-attestation-test", source="primary", policy=parse_trust_policy(section),
    )
except AnyaError as error:
    print(json.dumps({"error": type(error).__name__, "message": error.message, "hint": error.hint}))
else:
    print(json.dumps({"verified": decision.how, "identity": decision.identity}))
"""


class ConnectionCounter:
    """A TCP listener standing in for the network: it counts connections and closes them."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def network() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


def verify_in_child(
    section: dict[str, Any], network: ConnectionCounter, home: Path
) -> dict[str, Any]:
    proxies = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
    environment = {
        **{key: value for key, value in os.environ.items() if "PROXY" not in key.upper()},
        **dict.fromkeys(proxies, network.url),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, json.dumps(section), str(PROVENANCE), FILENAME, SHA256],
        capture_output=True, text=True, check=True, cwd=REPO, env=environment, timeout=120,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def tuf_metadata_written(home: Path) -> bool:
    """Whether sigstore's TUF client ran: it keeps its metadata under the data directory."""
    return (home / "data" / "sigstore-python").exists()


def shipped_root_age_days() -> int:
    from sigstore._utils import read_embedded

    shipped = json.loads(read_embedded("trusted_root.json", PUBLIC_GOOD_TUF_URL))
    return (datetime.now(UTC) - newest_validity_start(shipped)).days


def test_offline_verifies_a_pypi_provenance_without_touching_the_network(
    network: ConnectionCounter, tmp_path: Path
) -> None:
    section = {
        "offline": True,
        "max_root_age_days": shipped_root_age_days() + 2,
        "publishers": [PUBLISHER],
    }

    result = verify_in_child(section, network, tmp_path)

    assert result == {"verified": "attestation", "identity": PUBLISHER["identity"]}
    assert network.connections == 0
    assert not tuf_metadata_written(tmp_path)


def test_without_offline_the_same_check_reaches_for_tuf_and_fails_with_no_network(
    network: ConnectionCounter, tmp_path: Path
) -> None:
    result = verify_in_child({"publishers": [PUBLISHER]}, network, tmp_path)

    assert result["error"] == "TrustError"
    assert "cannot load the Sigstore public-good trusted root" in result["message"]
    assert "trust.offline = true" in result["hint"]
    assert network.connections > 0
    assert tuf_metadata_written(tmp_path)


def test_offline_refuses_a_public_good_root_older_than_max_root_age_days(
    network: ConnectionCounter, tmp_path: Path
) -> None:
    import sigstore

    age = shipped_root_age_days()
    section = {"offline": True, "max_root_age_days": age - 1, "publishers": [PUBLISHER]}

    result = verify_in_child(section, network, tmp_path)

    assert result["error"] == "StaleTrustedRoot"
    message = result["message"]
    assert message.startswith(
        f"the Sigstore trusted root used offline is {age} days old, older than "
        f"trust.max_root_age_days = {age - 1}: the public-good root as sigstore-python "
        f"{sigstore.__version__} ships it"
    )
    assert "no key rotation or revocation" in message
    assert "trust.trusted_root" in result["hint"]
    assert network.connections == 0


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    """The public-good root as a site distributes it: a copy at a path of its choosing."""
    from sigstore._utils import read_embedded

    path = tmp_path / "site" / "trusted_root.json"
    path.parent.mkdir()
    path.write_bytes(read_embedded("trusted_root.json", PUBLIC_GOOD_TUF_URL))
    return path


def site_policy(root: Path, **settings: Any) -> Any:
    return parse_trust_policy(
        {"trusted_root": str(root), "offline": True, "publishers": [PUBLISHER], **settings}
    )


def verify_offline(policy: Any) -> str:
    return verify_digest(
        FILENAME,
        SHA256,
        bundle=None,
        attestation=PROVENANCE.read_bytes(),
        dist_name="gcb-attestation-test",
        source="primary",
        policy=policy,
    ).how


def test_a_site_root_distributed_recently_verifies_offline(site_root: Path) -> None:
    assert verify_offline(site_policy(site_root, max_root_age_days=7)) == "attestation"


def test_a_site_root_not_distributed_for_longer_than_the_limit_is_refused(
    site_root: Path,
) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=200)).timestamp()
    os.utime(site_root, (long_ago, long_ago))

    with pytest.raises(StaleTrustedRoot) as refused:
        verify_offline(site_policy(site_root))

    assert refused.value.message.startswith(
        "the Sigstore trusted root used offline is 200 days old, older than "
        f"trust.max_root_age_days = 180: trust.trusted_root {site_root}, last distributed "
        "(modified) "
    )


def test_a_stale_site_root_is_not_refused_when_offline_is_not_set(site_root: Path) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=200)).timestamp()
    os.utime(site_root, (long_ago, long_ago))
    policy = parse_trust_policy({"trusted_root": str(site_root), "publishers": [PUBLISHER]})

    assert verify_offline(policy) == "attestation"


def test_a_roots_age_is_its_newest_validity_start() -> None:
    document = {
        "tlogs": [{"publicKey": {"validFor": {"start": "2021-01-12T11:53:27Z"}}}],
        "ctlogs": [{"publicKey": {"validFor": {"start": "2022-10-20T00:00:00Z"}}}],
        "certificateAuthorities": [
            {"validFor": {"start": "2022-04-13T20:06:15Z", "end": "2030-01-01T00:00:00Z"}}
        ],
        "timestampAuthorities": [{"validFor": {"start": "2025-07-04T00:00:00Z"}}],
    }

    assert newest_validity_start(document) == datetime(2025, 7, 4, tzinfo=UTC)


def test_a_root_that_lists_no_validity_start_has_no_age() -> None:
    with pytest.raises(ValueError, match="lists no key"):
        newest_validity_start({"tlogs": [], "ctlogs": []})


def verify_file_in_child(
    config: str, network: ConnectionCounter, home: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``anya-ext verify FILE`` on a file named like the provenance's subject, with the
    provenance, as the one publisher, offline by ``options`` or by ``config`` ([trust])."""
    artifact = home / FILENAME
    artifact.write_bytes(b"not the signed tarball")
    config_file = home / "extensions.toml"
    config_file.write_text(config)
    proxies = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("ANYA_")},
        **dict.fromkeys(proxies, network.url),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "ANYA_CONFIG": str(config_file),
    }
    return subprocess.run(
        [
            sys.executable, "-m", "anya_plugins.cli.main", "verify", str(artifact),
            "--provenance", str(PROVENANCE), "--identity", str(PUBLISHER["identity"]),
            "--issuer", str(PUBLISHER["issuer"]), *options,
        ],
        capture_output=True, text=True, check=False, cwd=REPO, env=environment, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("offline_setting", "options"),
    [("", ("--offline",)), ("offline = true\n", ())],
    ids=["--offline", "trust.offline"],
)
def test_verify_file_offline_refuses_a_root_older_than_max_root_age_days(
    network: ConnectionCounter, tmp_path: Path, offline_setting: str, options: tuple[str, ...]
) -> None:
    age = shipped_root_age_days()
    config = f"[trust]\n{offline_setting}max_root_age_days = {age - 1}\n"

    done = verify_file_in_child(config, network, tmp_path, *options)

    assert done.returncode == 13, done.stdout + done.stderr
    assert (
        f"the Sigstore trusted root used offline is {age} days old, older than "
        f"trust.max_root_age_days = {age - 1}: the public-good root"
    ) in done.stderr
    assert network.connections == 0
    assert not tuf_metadata_written(tmp_path)


def test_verify_file_offline_with_a_young_enough_root_goes_on_to_the_signature(
    network: ConnectionCounter, tmp_path: Path
) -> None:
    config = f"[trust]\nmax_root_age_days = {shipped_root_age_days() + 2}\n"

    done = verify_file_in_child(config, network, tmp_path, "--offline")

    assert done.returncode == 13, done.stdout + done.stderr
    assert "days old" not in done.stderr
    assert (
        f"its PEP 740 attestation (of a provenance object) is for {FILENAME} (sha256 {SHA256})"
        in (done.stderr)
    )
    assert network.connections == 0
