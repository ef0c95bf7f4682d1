# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Signed indexes in the devpi plugin: no upload without a PEP 740 attestation by a publisher.

An ``anya`` index with :data:`REQUIRE_SIGNATURES_KEY` takes a file only when the upload
(``twine upload --attestations``, ``anya-ext publish``) carries an attestation that verifies
as the installer verifies it (``anya_plugins.trust.verification.verify_signer``: certificate
chain to the trusted root, transparency-log proof, the signature over this very file) and
whose certificate names one of the index's :data:`PUBLISHERS_KEY`. Otherwise: HTTP 400 and
nothing stored. ``devpi push`` into such an index is refused: a push carries no attestations
of its own; publish the file to it instead.

The trusted root is the server's ``--anya-trusted-root`` file (a private or local Sigstore);
without one, Sigstore's public-good root, refreshed through TUF.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from devpi_server.filestore import get_hashes
from devpi_server.model import InvalidIndexconfig, ensure_list

from anya_plugins.registry.indexconfig import (
    INDEX_TYPE,
    PUBLISHERS_KEY,
    REQUIRE_SIGNATURES_KEY,
    TRUSTED_ROOT_OPTION,
)
from anya_plugins.registry.plugin_responses import refusal_response
from anya_plugins.registry.provenance import UPLOAD_FIELD, AttestationRefused, parse_attestations
from anya_plugins.registry.publishers import HOW_TO_NAME_PUBLISHERS
from anya_plugins.registry.uploadcheck import UploadRefused

Handler = Callable[[Any], Any]

_UPLOAD_ACTION = "file_upload"


class SignatureRequired(UploadRefused):
    """An upload to a signed index has no attestation by one of its publishers."""


def add_options(parser: Any) -> None:
    parser.addoption(
        TRUSTED_ROOT_OPTION,
        type=str,
        default=None,
        metavar="FILE",
        help="Sigstore trusted root (JSON) that upload attestations to indexes with "
        "anya_require_signatures must chain to (default: Sigstore's public-good root)",
    )


def normalize_publishers(value: object) -> list[str]:
    """Each publisher as ``"identity issuer"``."""
    publishers = [str(p).strip() for p in ensure_list(value)]
    malformed = [p for p in publishers if len(p.split()) != 2]
    if malformed:
        raise InvalidIndexconfig(
            f"{PUBLISHERS_KEY}: {malformed[0]!r} is not 'identity issuer' "
            "(an identity and an OIDC issuer URL, separated by a space)"
        )
    return publishers


def signature_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse an upload or push to a signed index without a verified publisher attestation."""
    xom = registry["xom"]
    trusted_root = getattr(xom.config.args, "anya_trusted_root", None)
    root = Path(trusted_root) if trusted_root else None

    def tween(request: Any) -> Any:
        try:
            _check(xom, request, root)
        except (UploadRefused, AttestationRefused) as refusal:
            return refusal_response(refusal)
        return handler(request)

    return tween


def _check(xom: Any, request: Any, trusted_root: Path | None) -> None:
    if request.method not in ("POST", "PUSH") or xom.is_replica():
        return
    parts = request.path_info.strip("/").split("/")
    if len(parts) != 2:
        return
    if request.content_type.startswith("multipart/form-data"):
        stage = xom.model.getstage(*parts)
        if _requires_signatures(stage) and request.has_permission("upload", stage):
            _check_upload(stage, request.POST, trusted_root)
    elif request.content_type == "application/json":
        _check_push(xom, request)


def _requires_signatures(stage: Any) -> bool:
    return (
        stage is not None
        and stage.ixconfig.get("type") == INDEX_TYPE
        and bool(stage.ixconfig.get(REQUIRE_SIGNATURES_KEY))
    )


def _check_upload(stage: Any, form: Any, trusted_root: Path | None) -> None:
    content = form.get("content")
    if form.get(":action") != _UPLOAD_ACTION or not getattr(content, "filename", None):
        return
    filename = str(content.filename)
    publishers = _publishers(stage)
    if not publishers:
        raise SignatureRequired(
            f"{filename}: {stage.name} takes only uploads signed by its publishers, "
            "and no publisher is configured for it, so it takes none",
            hint=f"the registry's administrator must {HOW_TO_NAME_PUBLISHERS}",
        )
    field = form.get(UPLOAD_FIELD)
    if not field:
        raise SignatureRequired(
            f"{filename}: {stage.name} requires a PEP 740 attestation by "
            f"{_names(publishers)}; the upload has none",
            hint="publish with anya-ext publish (signs by default) or twine upload --attestations",
        )
    content.file.seek(0)
    sha256 = get_hashes(content.file, hash_types=("sha256",))["sha256"]
    content.file.seek(0)
    attestations = parse_attestations(str(field), filename=filename, sha256=sha256)
    _verify(stage.name, filename, sha256, attestations, publishers, trusted_root)


def _verify(
    index: str,
    filename: str,
    sha256: str,
    attestations: Iterable[dict[str, Any]],
    publishers: list[tuple[str, str]],
    trusted_root: Path | None,
) -> None:
    """Return when one attestation verifies as by one publisher; else SignatureRequired."""
    from anya_plugins.trust.errors import TrustError
    from anya_plugins.trust.policy import Publisher
    from anya_plugins.trust.verification import Evidence, read_evidence, verify_signer

    problems: list[str] = []
    for attestation in attestations:
        document = json.dumps(attestation).encode("utf-8")
        for identity, issuer in publishers:
            try:
                evidence = read_evidence(
                    document, subject=filename, supplied_as=Evidence.ATTESTATION
                )
                verify_signer(
                    filename,
                    sha256,
                    evidence,
                    signer=Publisher(identity, issuer, names=("*",)),
                    trusted_root=trusted_root,
                    offline=trusted_root is not None,
                )
            except TrustError as error:
                problems.append(error.message)
                continue
            return
    found = problems[0] if problems else "the upload carries none"
    raise SignatureRequired(
        f"{filename}: {index} requires a PEP 740 attestation by {_names(publishers)}; "
        f"none of the upload's attestations verifies as theirs: {found}",
        hint="sign with the publisher's identity (anya-ext publish --identity-token ...)",
    )


def _check_push(xom: Any, request: Any) -> None:
    try:
        push = request.json_body
    except ValueError:
        return
    if not isinstance(push, dict) or not push.get("targetindex"):
        return
    target_parts = str(push["targetindex"]).split("/")
    if len(target_parts) != 2:
        return
    target = xom.model.getstage(*target_parts)
    if _requires_signatures(target) and request.has_permission("upload", target):
        raise SignatureRequired(
            f"{target.name} requires a PEP 740 attestation with every file, "
            "and a push carries none",
            hint=f"publish the files to {target.name} with their attestations instead",
        )


def _publishers(stage: Any) -> list[tuple[str, str]]:
    pairs = (str(p).split() for p in stage.ixconfig.get(PUBLISHERS_KEY, []))
    return [(pair[0], pair[1]) for pair in pairs if len(pair) == 2]


def _names(publishers: list[tuple[str, str]]) -> str:
    if not publishers:
        return "a publisher (none is configured)"
    return " or ".join(f"{identity} (issuer {issuer})" for identity, issuer in publishers)
