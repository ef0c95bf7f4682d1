"""The local OIDC issuer mints tokens sigstore-python accepts and publishes its key."""

from __future__ import annotations

import jwt
import pytest
from sigstore.oidc import IdentityToken

from anya_sigstore_local import LocalInstanceError, LocalSigstore
from tests.trust.support import ALICE, WORKFLOW, http_json


@pytest.mark.parametrize("identity", [ALICE, WORKFLOW])
def test_sigstore_reads_the_identity_and_issuer_of_a_token(
    local_sigstore: LocalSigstore, identity: str
) -> None:
    token = IdentityToken(local_sigstore.issue_token(identity))

    assert token.identity == identity
    assert token.issuer == local_sigstore.issuer_url
    assert token.in_validity_period()


def test_an_identity_that_is_neither_email_nor_uri_is_refused(
    local_sigstore: LocalSigstore,
) -> None:
    with pytest.raises(LocalInstanceError, match="neither an email address nor a URI"):
        local_sigstore.issue_token("alice")


def test_the_published_key_verifies_a_token(local_sigstore: LocalSigstore) -> None:
    status, discovery = http_json(
        "GET", f"{local_sigstore.issuer_url}/.well-known/openid-configuration"
    )
    assert status == 200
    assert discovery["issuer"] == local_sigstore.issuer_url
    status, jwks = http_json("GET", discovery["jwks_uri"])
    assert status == 200
    token = local_sigstore.issue_token(ALICE)
    (key,) = jwt.PyJWKSet.from_dict(jwks).keys

    claims = jwt.decode(token, key, algorithms=["ES256"], audience="sigstore")

    assert claims["email"] == ALICE
    assert claims["email_verified"] is True
    assert key.key_id == jwt.get_unverified_header(token)["kid"]
