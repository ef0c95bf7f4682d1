"""An authority's keys and certificates survive a round trip through its directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from anya_sigstore_local import Authority, LocalInstanceError
from anya_sigstore_local.keys import PrivateKey


def public_bytes(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_saved_authority_loads_with_the_same_keys_and_certificates(tmp_path: Path) -> None:
    authority = Authority.generate(name="roundtrip")
    authority.save(tmp_path)

    loaded = Authority.load(tmp_path)

    assert (loaded.name, loaded.tree_id) == (authority.name, authority.tree_id)
    assert loaded.ca_chain == authority.ca_chain
    for original, reloaded in (
        (authority.root.key, loaded.root.key),
        (authority.intermediate.key, loaded.intermediate.key),
        (authority.ct_log_key, loaded.ct_log_key),
        (authority.transparency_log_key, loaded.transparency_log_key),
        (authority.oidc_issuer_key, loaded.oidc_issuer_key),
    ):
        assert public_bytes(reloaded) == public_bytes(original)


def test_private_keys_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    Authority.generate().save(tmp_path)

    for key_file in tmp_path.glob("*.key.pem"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, key_file


def test_load_or_create_keeps_an_existing_authority(tmp_path: Path) -> None:
    first = Authority.load_or_create(tmp_path)

    assert Authority.load_or_create(tmp_path).ca_chain == first.ca_chain


def test_a_directory_without_an_authority_is_reported_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(LocalInstanceError, match="not a local Sigstore authority") as raised:
        Authority.load(tmp_path)

    assert raised.value.hint is not None


def test_a_name_with_a_space_is_refused() -> None:
    with pytest.raises(LocalInstanceError, match="is not one word"):
        Authority.generate(name="two words")
