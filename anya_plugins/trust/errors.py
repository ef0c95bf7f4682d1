"""Errors of the trust layer: a trust policy that cannot be read, a signature that cannot be
made, a file whose signature (or lack of one) the policy refuses, installed files that changed.

Every message names the file, what the policy expected and what was found, so the person at
the terminal can tell a tampered file from a publisher missing from their policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anya_plugins.errors import AnyaError, ConfigError


class TrustError(AnyaError):
    """Signing or verifying failed, or the trust policy forbids what was asked."""

    exit_code = 13


class TrustPolicyError(TrustError, ConfigError):
    """A key of the ``[trust]`` configuration section is missing, unknown or of the wrong type.

    Also a :class:`ConfigError`, so a caller that reports configuration errors catches it too;
    its exit code is that of a configuration error.
    """

    exit_code = ConfigError.exit_code

    def __init__(self, key: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"trust.{key}: {problem}" if key else f"trust: {problem}", hint=hint)
        self.key = key
        self.problem = problem


class SigningFailed(TrustError):
    """No identity token could be had, or Fulcio or Rekor refused to sign."""


class VerificationFailed(TrustError):
    """A file's signature is missing, invalid, for another file, or by a signer the policy
    does not allow for that extension.

    ``expected`` lists the allowed signers (``identity (issuer ...)``); ``found`` is the signer
    the certificate names, or None when there was no certificate to read.
    """

    def __init__(
        self,
        subject: str,
        problem: str,
        *,
        expected: Sequence[str] = (),
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{subject}: {problem}", hint=hint)
        self.subject = subject
        self.problem = problem
        self.expected = tuple(expected)
        self.found = found


class MissingSignature(VerificationFailed):
    """The policy requires a signature and the file came without one."""


class StaleTrustedRoot(TrustError):
    """Offline (``trust.offline``), the trusted root is older than ``trust.max_root_age_days``:
    it has seen no key rotation or revocation since."""


class InstalledFilesUnverifiable(TrustError):
    """An installed distribution has no RECORD, so its files cannot be checked."""

    def __init__(self, dist_name: str, location: Path | None) -> None:
        where = f" in {location}" if location is not None else ""
        super().__init__(
            f"{dist_name}{where} has no RECORD file: its installed files cannot be checked",
            hint=f"reinstall {dist_name} with pip or uv, which write RECORD",
        )
        self.dist_name = dist_name


def first_line(error: BaseException) -> str:
    """The first line of an underlying library's error, for a one-line message of ours.

    An error raised without a message says what caused it, if anything did.
    """
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    cause = error.__cause__
    return f"{type(error).__name__}: {first_line(cause)}" if cause else type(error).__name__
