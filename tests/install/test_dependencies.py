"""An extension with a third-party dependency, installed into a fresh venv from the registry.

The extension is on ``anya/primary``, anya-plugins on ``anya/host`` (published as
``registry up`` does), the third-party package only on the upstream the registry mirrors
(tests/upstream_index.py, a local stand-in for PyPI). pip, uv and ``anya-ext install``
all find all three through the one index URL. What the trust policy requires of the
dependency (``[trust] dependencies``) is shown per package in the summary.

The local upstream holds only test wheels, not anya-plugins' own dependencies (pluggy,
sigstore, ...), so each fresh venv is seeded with those from uv's cache first; with PyPI
as the upstream they come through the mirror like any other dependency.
"""

from __future__ import annotations

import sys
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from anya_plugins.registry.hostdist import publish_host
from anya_plugins.trust.signing import attest_files
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import PUBLISHER, Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    run,
    uv,
    wheel_metadata,
)
from tests.upstream_index import THIRD_PARTY, THIRD_PARTY_VERSION, plain_wheel

pytestmark = pytest.mark.slow

EXTENSION = "anya-ext-depender"
SIGNED_DEPENDENCY = "anya-test-signeddep"
RELEASER = "deps-release@anya.example"
MALLORY = "mallory@evil.example"


@pytest.fixture(scope="module")
def index_url(
    registry: Registry, upload: Upload, build_extension: ExtensionBuilder, anya_wheel: Path
) -> str:
    publish_host(registry.url, registry.credentials("anya"), wheel=anya_wheel)
    spec = ExtensionSpec("depender", category="core/bitcoin", dependencies=(f"{THIRD_PARTY}>=1",))
    done = upload("anya/primary", build_extension(spec), user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return f"{registry.url}/anya/primary/+simple/"


@pytest.fixture(scope="module")
def signed_dependency_index(
    index_url: str,
    registry: Registry,
    upload: Upload,
    build_extension: ExtensionBuilder,
    local_sigstore: LocalSigstore,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """A dependency on anya/host with a PEP 740 attestation, and an extension needing it."""
    directory = tmp_path_factory.mktemp("signed-dependency")
    wheel = plain_wheel(directory, SIGNED_DEPENDENCY, "1.0.0", modules={"anya_test_signeddep": ""})
    (attestation,) = attest_files(
        [wheel],
        identity_token=local_sigstore.issue_token(RELEASER),
        trust_config=local_sigstore.trust_config_path,
    )
    done = upload("anya/host", wheel, attestation, user="anya", options=["--attestations"])
    assert done.returncode == 0, done.stdout + done.stderr
    spec = ExtensionSpec(
        "signed-depender", category="core/bitcoin", dependencies=(f"{SIGNED_DEPENDENCY}>=1",)
    )
    done = upload("anya/primary", build_extension(spec), user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return index_url


@pytest.fixture
def fresh(tmp_path: Path, anya_wheel: Path) -> Path:
    """A new venv holding only pip and anya-plugins' own dependencies (from uv's cache)."""
    path = tmp_path / "fresh"
    run([uv(), "venv", "--quiet", "--seed", "--python", sys.executable, path])
    metadata = wheel_metadata(anya_wheel)
    host_requirements = [
        str(requirement)
        for requirement in map(
            Requirement, Parser().parsestr(metadata).get_all("Requires-Dist") or ()
        )
        if requirement.marker is None
    ]
    python = path / "bin" / "python"
    run([uv(), "pip", "install", "--quiet", "--offline", "--python", python, *host_requirements])
    return path


@pytest.fixture
def venv(
    make_venv: VenvFactory, index_url: str, tmp_path: Path, local_sigstore: LocalSigstore
) -> Venv:
    """Where ``anya-ext`` runs from; it installs into the fresh venv (``--python``)."""
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=index_url,
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        # Extension signatures are tested in test_signed_install.py; here, the dependencies.
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
    )
    _trust_config(venv, local_sigstore)
    return venv


_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m\n"
    "for d in m.distributions(): print(d.metadata['Name'] + '==' + d.version)"
)


def _installed(python: Path) -> dict[str, str]:
    done = run([python, "-c", _LIST_DISTRIBUTIONS])
    return dict(line.split("==", 1) for line in done.stdout.split())


def _origin(python: Path) -> str:
    done = run([python, "-c", "import anya_test_thirdparty as t; print(t.ORIGIN)"])
    return done.stdout.strip()


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_pip_and_uv_install_an_extension_its_host_and_its_dependency_from_one_index(
    index_url: str, fresh: Path, tool: str
) -> None:
    python = fresh / "bin" / "python"
    command = {
        "pip": [python, "-m", "pip", "install", "--quiet", "--index-url", index_url, EXTENSION],
        "uv": [uv(), "pip", "install", "--quiet", "--python", python, "--index-url", index_url,
               EXTENSION],
    }[tool]  # fmt: skip

    run(command)

    installed = _installed(python)
    assert installed[EXTENSION] == "0.1.0"
    assert installed[THIRD_PARTY] == THIRD_PARTY_VERSION
    assert "anya-plugins" in installed
    assert _origin(python) == "upstream"


def test_anya_ext_installs_into_a_fresh_venv_and_says_what_was_checked_of_the_dependency(
    venv: Venv, fresh: Path
) -> None:
    done = venv.anya_ext("install", "--python", str(fresh / "bin" / "python"), "depender")

    assert done.returncode == 0, done.stdout + done.stderr
    installed = _installed(fresh / "bin" / "python")
    assert (installed[EXTENSION], installed[THIRD_PARTY]) == ("0.1.0", THIRD_PARTY_VERSION)
    assert (
        f"{THIRD_PARTY} {THIRD_PARTY_VERSION} (dependency, trust.dependencies = "
        "'provenance-if-served'): sha256 only (no provenance served)"
    ) in done.stdout


def test_with_dependencies_sha256_the_summary_says_provenance_is_not_checked(
    venv: Venv, fresh: Path
) -> None:
    done = venv.anya_ext(
        "install", "--python", str(fresh / "bin" / "python"), "depender",
        ANYA_TRUST__DEPENDENCIES="sha256",
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "sha256 only (provenance not checked)" in done.stdout


def test_with_dependencies_signed_an_unsigned_dependency_is_refused_and_nothing_installs(
    venv: Venv, fresh: Path
) -> None:
    python = fresh / "bin" / "python"
    before = _installed(python)

    done = venv.anya_ext(
        "install", "--python", str(python), "depender", ANYA_TRUST__DEPENDENCIES="signed"
    )

    assert done.returncode != 0
    assert 'trust.dependencies = "signed" requires one' in done.stderr
    assert _installed(python) == before


def test_a_wrong_dependency_policy_value_is_named(venv: Venv, fresh: Path) -> None:
    done = venv.anya_ext(
        "install", "--python", str(fresh / "bin" / "python"), "depender",
        ANYA_TRUST__DEPENDENCIES="none",
    )  # fmt: skip

    assert done.returncode != 0
    assert "trust.dependencies: must be one of" in done.stderr


def _trust_config(venv: Venv, sigstore: LocalSigstore, *publisher_identities: str) -> None:
    """Trust ``sigstore``'s root, the extensions' signer on anya/primary (the registry's
    publisher) and ``publisher_identities`` for the signed dependency."""
    text = (
        f'[trust]\ntrusted_root = "{sigstore.trusted_root_path}"\n\n'
        f'[[trust.publishers]]\nidentity = "{PUBLISHER}"\n'
        f'issuer = "{sigstore.issuer_url}"\nnames = ["anya-ext-*"]\n'
    )
    for identity in publisher_identities:
        text += (
            f'\n[[trust.publishers]]\nidentity = "{identity}"\n'
            f'issuer = "{sigstore.issuer_url}"\nnames = ["{SIGNED_DEPENDENCY}"]\n'
        )
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.write_text(text)


def test_a_served_provenance_of_a_dependency_is_verified_and_its_signer_shown(
    signed_dependency_index: str, venv: Venv, fresh: Path, local_sigstore: LocalSigstore
) -> None:
    _trust_config(venv, local_sigstore)

    done = venv.anya_ext("install", "--python", str(fresh / "bin" / "python"), "signed-depender")

    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"{SIGNED_DEPENDENCY} 1.0.0 (dependency, trust.dependencies = 'provenance-if-served'): "
        f"sha256 and provenance by {RELEASER} (issuer {local_sigstore.issuer_url})"
    ) in done.stdout


def test_a_dependency_signed_by_someone_the_publishers_do_not_name_is_refused(
    signed_dependency_index: str, venv: Venv, fresh: Path, local_sigstore: LocalSigstore
) -> None:
    python = fresh / "bin" / "python"
    before = _installed(python)
    _trust_config(venv, local_sigstore, MALLORY)

    done = venv.anya_ext("install", "--python", str(python), "signed-depender")

    assert done.returncode != 0, done.stdout
    assert RELEASER in done.stderr
    assert _installed(python) == before
