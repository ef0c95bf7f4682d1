"""A local OpenID Connect issuer: mints ES256 identity tokens for any identity it is asked for.

It stands in for an identity provider (Google, GitHub Actions, Sigstore's Dex) that
cannot be reached offline. Its tokens carry what sigstore-python's ``IdentityToken``
requires (``iss``, ``sub``, ``aud`` = ``"sigstore"``, ``iat``, ``exp``) and what Fulcio
binds into a certificate: a verified ``email`` for a person, or a URI ``sub`` for a
workload such as a CI workflow. Over HTTP it publishes only its discovery document and
signing key, as a real issuer does; tokens are minted in-process by whoever holds the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import ECAlgorithm

from anya_sigstore_local.errors import LocalInstanceError
from anya_sigstore_local.http_service import Request, Response, Route
from anya_sigstore_local.keys import PrivateKey, key_id

AUDIENCE = "sigstore"
TOKEN_LIFETIME = timedelta(minutes=10)
SIGNING_ALGORITHM = "ES256"
DISCOVERY_PATH = "/.well-known/openid-configuration"
KEYS_PATH = "/keys"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class InvalidToken(Exception):
    """A token this issuer did not sign, or that is expired, or meant for someone else."""


@dataclass(frozen=True)
class VerifiedIdentity:
    """The claims of a token whose signature, audience and lifetime have been checked.

    ``email`` is set only when the token vouches for it (``email_verified``).
    """

    issuer: str
    subject: str
    email: str | None


class OidcIssuer:
    """Mints and checks identity tokens signed with this issuer's key, in the name of ``url``."""

    def __init__(self, key: PrivateKey, url: str) -> None:
        self._key = key
        self.url = url
        self._key_id = key_id(key.public_key()).hex()[:16]

    def issue_token(
        self,
        identity: str,
        *,
        lifetime: timedelta = TOKEN_LIFETIME,
        now: datetime | None = None,
    ) -> str:
        """A signed token for ``identity``: an email address or a URI (``scheme://...``).

        An email becomes a verified ``email`` claim (Fulcio puts it in an email SAN);
        a URI becomes the ``sub`` claim (Fulcio puts it in a URI SAN). sigstore-python
        reads ``sub`` as the identity for issuers it does not know, so ``sub`` is the
        identity in both cases.
        """
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        claims: dict[str, object] = {
            "iss": self.url,
            "sub": identity,
            "aud": AUDIENCE,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
        }
        if not is_uri(identity):
            if not _EMAIL.fullmatch(identity):
                raise LocalInstanceError(
                    f"identity {identity!r} is neither an email address nor a URI",
                    hint="use e.g. 'alice@example.com' or "
                    "'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main'",
                )
            claims["email"] = identity
            claims["email_verified"] = True
        return jwt.encode(
            claims, self._key, algorithm=SIGNING_ALGORITHM, headers={"kid": self._key_id}
        )

    def verify_token(self, token: str) -> VerifiedIdentity:
        """The identity in ``token`` if this issuer signed it for Sigstore and it is current."""
        try:
            claims = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=[SIGNING_ALGORITHM],
                audience=AUDIENCE,
                issuer=self.url,
                options={"require": ["iss", "sub", "aud", "iat", "exp"]},
            )
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"identity token rejected: {error}") from error
        subject = claims["sub"]
        email = claims.get("email") if claims.get("email_verified") is True else None
        if not isinstance(subject, str) or not (email is None or isinstance(email, str)):
            raise InvalidToken("identity token claims 'sub' and 'email' must be strings")
        return VerifiedIdentity(issuer=self.url, subject=subject, email=email)

    def routes(self) -> list[Route]:
        """Discovery document and JWKS, the two documents relying parties fetch."""
        return [
            Route("GET", re.escape(DISCOVERY_PATH), self._discovery),
            Route("GET", re.escape(KEYS_PATH), self._keys),
        ]

    def _discovery(self, request: Request) -> Response:
        return Response.json(
            {
                "issuer": self.url,
                "jwks_uri": self.url + KEYS_PATH,
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
                "claims_supported": ["iss", "sub", "aud", "iat", "exp", "email", "email_verified"],
            }
        )

    def _keys(self, request: Request) -> Response:
        jwk = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self._key_id, "use": "sig", "alg": SIGNING_ALGORITHM})
        return Response.json({"keys": [jwk]})


def is_uri(identity: str) -> bool:
    """Whether ``identity`` names a workload by URI (``scheme://...``) rather than a person."""
    return bool(urlsplit(identity).scheme) and "://" in identity
