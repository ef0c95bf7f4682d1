"""Helpers behind the trust fixtures: signing with sigstore-python, HTTP calls, CLI runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from anya_sigstore_local import LocalSigstore

ALICE = "alice@example.com"
WORKFLOW = "https://git.example.com/anya/ext/.github/workflows/release.yml@refs/tags/v1.0.0"

Sign = Callable[[bytes, str], Bundle]


def signer_for(sigstore: LocalSigstore) -> Sign:
    """Sign bytes as an identity through sigstore-python's ``SigningContext`` and ``Signer``."""
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    context = SigningContext.from_trust_config(config)

    def sign(artifact: bytes, identity: str) -> Bundle:
        token = IdentityToken(sigstore.issue_token(identity))
        with context.signer(token) as signer:
            bundle = signer.sign_artifact(artifact)
        # What an installer meets is the bundle's JSON, never the signer's object.
        return Bundle.from_json(bundle.to_json())

    return sign


def http_json(
    method: str, url: str, document: object = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Send ``document`` as JSON; the status and the parsed JSON answer, errors included."""
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def capture(*command: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` and capture its output, whatever its exit code."""
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        # sigstore logs through rich, which wraps lines at the terminal width.
        env={**os.environ, "COLUMNS": "1000"},
    )


def sigstore_cli(
    trust_config: Path | str, *arguments: str | Path
) -> subprocess.CompletedProcess[str]:
    """The stock ``sigstore`` CLI, pointed at a client trust config."""
    return capture(sys.executable, "-m", "sigstore", "--trust-config", trust_config, *arguments)
