"""``python -m anya_sigstore_local``: serve in the foreground, mint tokens for it.

The stock ``sigstore`` CLI signs against the served instance with a minted token,
which is how a demo drives it from outside the Python process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.trust.support import ALICE, capture, sigstore_cli

ENTRY = [sys.executable, "-m", "anya_sigstore_local"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    directory = tmp_path / "instance"
    process = subprocess.Popen(
        [*ENTRY, "serve", str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.strip() == "ready":
            break
    else:
        _, errors = process.communicate(timeout=10)
        pytest.fail(f"serve exited {process.returncode}: {''.join(printed)}{errors}")
    try:
        yield directory, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_served_instance_signs_for_the_stock_cli_with_a_minted_token(
    served: tuple[Path, subprocess.Popen[str]], tmp_path: Path
) -> None:
    directory, _ = served
    record = json.loads((directory / "instance.json").read_text())
    artifact = tmp_path / "demo-1.0-py3-none-any.whl"
    artifact.write_bytes(b"wheel bytes")
    bundle = tmp_path / "demo.sigstore.json"

    token = capture(*ENTRY, "token", directory, ALICE)
    assert token.returncode == 0, token.stderr
    signed = sigstore_cli(
        record["trustConfig"],
        "sign", "--identity-token", token.stdout.strip(), "--bundle", bundle, artifact,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    verified = sigstore_cli(
        record["trustConfig"],
        "verify", "identity", "--offline", "--bundle", bundle,
        "--cert-identity", ALICE, "--cert-oidc-issuer", record["oidcIssuer"], artifact,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr


def test_sigterm_stops_the_instance_and_removes_its_record(
    served: tuple[Path, subprocess.Popen[str]],
) -> None:
    directory, process = served

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 0
    assert not (directory / "instance.json").exists()
    assert (directory / "client_trust_config.json").exists()


def test_token_without_a_running_instance_says_how_to_start_one(tmp_path: Path) -> None:
    done = capture(*ENTRY, "token", tmp_path, ALICE)

    assert done.returncode == 1
    assert "no local Sigstore instance is running" in done.stderr
    assert "serve DIRECTORY" in done.stderr
