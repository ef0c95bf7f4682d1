"""What the index checks of upload attestations, and the provenance object it builds, offline.

The attestations here are well-formed but unsigned: the index checks shape and subject,
never signatures (those are verified against a real Sigstore in test_provenance_api.py).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from anya_plugins.registry.provenance import (
    IN_TOTO_STATEMENT,
    AttestationRefused,
    new_attestations,
    parse_attestations,
    provenance_object,
    publisher,
    same_distribution,
)

WHEEL = "anya_ext_demo-1.0-py3-none-any.whl"
SHA256 = "ab" * 32
PUBLISH = "https://docs.pypi.org/attestations/publish/v1"


def b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def attestation(
    name: str = WHEEL, sha256: str = SHA256, *, predicate: str = PUBLISH, signature: str = "sig"
) -> dict[str, Any]:
    statement = {
        "_type": IN_TOTO_STATEMENT,
        "subject": [{"name": name, "digest": {"sha256": sha256}}],
        "predicateType": predicate,
        "predicate": None,
    }
    return {
        "version": 1,
        "verification_material": {"certificate": b64("cert"), "transparency_entries": [{}]},
        "envelope": {"statement": b64(json.dumps(statement)), "signature": b64(signature)},
    }


def field(*attestations: object) -> str:
    return json.dumps(list(attestations))


def test_attestations_about_the_file_are_returned() -> None:
    one = attestation()

    assert parse_attestations(field(one), filename=WHEEL, sha256=SHA256) == [one]


def test_subject_name_is_compared_as_a_parsed_wheel_name() -> None:
    assert same_distribution("Anya_Ext_Demo-1.0-py3-none-any.whl", WHEEL)
    assert not same_distribution("anya_ext_demo-1.1-py3-none-any.whl", WHEEL)


def test_field_that_is_not_json_is_refused() -> None:
    with pytest.raises(
        AttestationRefused, match=re.escape(f"{WHEEL}: the attestations field is not JSON")
    ):
        parse_attestations("{not json", filename=WHEEL, sha256=SHA256)


def test_field_that_is_not_an_array_is_refused() -> None:
    with pytest.raises(AttestationRefused, match=r"is a JSON dict, not an array"):
        parse_attestations(json.dumps(attestation()), filename=WHEEL, sha256=SHA256)


def test_attestation_of_other_bytes_is_refused_naming_both_digests() -> None:
    other = "cd" * 32

    with pytest.raises(AttestationRefused) as raised:
        parse_attestations(field(attestation(sha256=other)), filename=WHEEL, sha256=SHA256)

    assert raised.value.message == (
        f"{WHEEL}: attestation 1: it attests {WHEEL} with sha256 {other}, "
        f"not the uploaded {WHEEL} with sha256 {SHA256}"
    )


def test_attestation_of_another_file_is_refused() -> None:
    other = attestation(name="anya_ext_other-1.0-py3-none-any.whl")

    with pytest.raises(AttestationRefused, match=r"attestation 2: it attests anya_ext_other"):
        parse_attestations(field(attestation(), other), filename=WHEEL, sha256=SHA256)


def test_unknown_predicate_type_is_refused() -> None:
    odd = attestation(predicate="https://example.com/my-claim")

    with pytest.raises(AttestationRefused, match=r"unknown predicate type"):
        parse_attestations(field(odd), filename=WHEEL, sha256=SHA256)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": 2}, "version is 2, not 1"),
        ({"verification_material": {}}, "certificate is missing or not base64"),
        ({"envelope": {"statement": "!!", "signature": b64("s")}}, "statement is not base64"),
    ],
)
def test_malformed_attestation_is_refused_saying_what_is_wrong(
    change: dict[str, Any], problem: str
) -> None:
    broken = {**attestation(), **change}

    with pytest.raises(AttestationRefused, match=re.escape(problem)):
        parse_attestations(field(broken), filename=WHEEL, sha256=SHA256)


def test_only_attestations_not_stored_yet_are_new() -> None:
    first, second = attestation(signature="one"), attestation(signature="two")
    stored = [{"publisher": publisher("acme", "acme/dev"), "attestations": [first]}]

    assert new_attestations([first, second, second], stored) == [second]


def test_provenance_has_one_bundle_per_publisher_in_upload_order() -> None:
    first, second, third = (attestation(signature=s) for s in ("1", "2", "3"))
    acme, bob = publisher("acme", "acme/dev"), publisher("bob", "acme/dev")

    provenance = provenance_object(
        [
            {"publisher": acme, "attestations": [first]},
            {"publisher": bob, "attestations": [second]},
            {"publisher": acme, "attestations": [third, first]},
        ]
    )

    assert provenance == {
        "version": 1,
        "attestation_bundles": [
            {"publisher": acme, "attestations": [first, third]},
            {"publisher": bob, "attestations": [second]},
        ],
    }
