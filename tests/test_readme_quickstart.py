"""The README's quick start, followed literally in a fresh venv, works end to end.

The two bash blocks under ``## Quickstart`` in README.md ("For authors:" and "For users:")
are read from the README itself and run line by line, in order, through bash, in a fresh
venv whose ``bin`` is first on PATH and whose HOME is its own (so the registry's default
state directory, the cache, the config and the data are this test's alone). Comment lines
are skipped, ``\\`` continuation lines joined and trailing ``# ...`` comments stripped. A
README change that no longer works fails this test; so does a change that drops a line a
substitution below expects (each one asserts the text it replaces).

Substitutions, the only ones (offline, no PyPI, no real Sigstore):

1. ``pip install 'anya-plugins[registry]'`` installs the checkout's wheel with that extra
   into the fresh venv, with uv, as ``make_venv`` installs the wheel's own dependencies.
2. ``registry up`` gets ``--port`` (a free one), ``--upstream`` (a local static index
   serving a stand-in ``httpx`` 0.27.0 wheel, for the ``--dependency 'httpx>=0.27'``;
   the venv already holds a real httpx through anya-plugins' own dependencies),
   and ``--trusted-root`` (the local Sigstore's). The registry's state directory is the
   default one, inside the venv's own HOME, so the user commands find it the way the
   README relies on.
3. ``https://github.com/login/oauth`` (in ``registry up --issuer`` and ``trust
   add-publisher --issuer``) becomes the local Sigstore's issuer; the identity
   ``you@example.org`` is kept: the local instance issues tokens for it.
4. ``publish ... --interactive`` becomes ``--trust-config <local> --identity-token <token
   for you@example.org>``; the user commands get ``ANYA_TRUST__TRUSTED_ROOT`` (the local
   Sigstore's root) in the environment, as a site would configure it.
5. The synopsis ``verify FILE --identity ID --issuer URL [--bundle B | ...] [--trusted-root
   R | --offline]`` is instantiated with the published wheel, its PEP 740 attestation,
   you@example.org, the local issuer and the local trusted root.
6. ``all.zip`` in ``audit --update --from all.zip`` is a one-record OSV database written
   here (an osv.dev download cannot happen offline).

"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from anya_sigstore_local import LocalSigstore
from tests.support import REPO, Venv, VenvFactory, uv
from tests.upstream_index import plain_wheel, serve_static_index, write_simple_index

pytestmark = pytest.mark.slow

README = REPO / "README.md"
GITHUB_ISSUER = "https://github.com/login/oauth"
IDENTITY = "you@example.org"


def quickstart_blocks(text: str) -> dict[str, list[str]]:
    """The commands of the bash blocks after "For authors:" and "For users:" in the
    ``## Quickstart`` section: continuation lines joined, comments stripped."""
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, list[str]] = {}
    for label in ("For authors:", "For users:"):
        after = section.split(f"\n{label}\n", 1)[1]
        body = after.split("```bash\n", 1)[1].split("\n```", 1)[0]
        blocks[label] = _commands(body)
    return blocks


def _commands(body: str) -> list[str]:
    commands: list[str] = []
    pending = ""
    for raw in body.splitlines():
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        commands.append((pending + line.strip()).strip())
        pending = ""
    assert not pending, f"a continuation line ends the block: {pending!r}"
    return commands


def _strip_comment(line: str) -> str:
    """The line up to a ``#`` that starts a comment (outside quotes, after a blank)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def test_the_parser_joins_continuations_and_strips_comments() -> None:
    body = (
        "a --x 'p#q' \\\n    --y z   # comment\n                # only a comment\nb && c   # more\n"
    )
    assert _commands(body) == ["a --x 'p#q' --y z", "b && c"]


SAYS = {
    "anya-ext registry up": "anya/primary",
    "anya-ext publish": "published 2 file(s)",
    "anya-ext search lightning": "anya-ext-lightning-watch",
    "anya-ext info lightning-watch": "tor",
    "anya-ext install lightning-watch@": "anya-ext-lightning-watch",
    "anya-ext list": "lightning-watch",
    "anya-ext lightning-watch-greet --who you": "you",
    "anya-ext verify --all": f"attestation by {IDENTITY}",
    "anya-ext verify FILE": IDENTITY,
    "anya-ext audit &&": "chain intact",
    "anya-ext doctor": "lightning-watch",
}
"""What a README line's output must say (its command prefix -> a piece of its stdout)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    """A local stand-in for PyPI serving a tiny ``httpx`` 0.27.0 (the extension's dependency)."""
    wheels = tmp_path / "upstream-wheels"
    wheels.mkdir()
    httpx = plain_wheel(wheels, "httpx", "0.27.0", modules={"httpx": '__version__ = "0.27.0"\n'})
    write_simple_index(tmp_path / "upstream", [httpx])
    with serve_static_index(tmp_path / "upstream") as url:
        yield url


def _osv_database(path: Path) -> Path:
    """One fresh OSV record for a package nobody installs, zipped as osv.dev ships them."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "id": "PYSEC-0000-QUICKSTART",
        "modified": now,
        "published": now,
        "summary": "a record for the README quick start test",
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "anya-test-nobody"}, "versions": ["0.0.1"]}
        ],
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("PYSEC-0000-QUICKSTART.json", json.dumps(record))
    return path


def _replace(command: str, old: str, new: str) -> str:
    assert old in command, f"the README line no longer says {old!r}: {command}"
    return command.replace(old, new)


def test_the_readme_quickstart_runs_end_to_end(
    make_venv: VenvFactory,
    anya_wheel: Path,
    local_sigstore: LocalSigstore,
    upstream: str,
    tmp_path: Path,
) -> None:
    blocks = quickstart_blocks(README.read_text(encoding="utf-8"))
    authors, users = blocks["For authors:"], blocks["For users:"]
    venv: Venv = make_venv()
    work = tmp_path / "work"
    work.mkdir()
    issuer = local_sigstore.issuer_url
    trusted_root = local_sigstore.trusted_root_path
    port = _free_port()
    env = venv.env(ANYA_TRUST__TRUSTED_ROOT=str(local_sigstore.trusted_root_path))

    def substitute(command: str) -> str:
        if command.startswith("pip install"):
            assert command == "pip install 'anya-plugins[registry]'", command
            return (
                f"{uv()} pip install --quiet --link-mode copy --python "
                f"{venv.python} '{anya_wheel}[registry]'"
            )
        if command.startswith("anya-ext registry up"):
            command = _replace(command, f"--issuer {GITHUB_ISSUER}", f"--issuer {issuer}")
            return (
                f"{command} --port {port} --upstream {upstream} "
                f"--trusted-root {local_sigstore.trusted_root_path}"
            )
        if command.startswith("anya-ext publish"):
            token = local_sigstore.issue_token(IDENTITY)
            return _replace(
                command,
                "--interactive",
                f"--trust-config {local_sigstore.trust_config_path} --identity-token {token}",
            )
        if command.startswith("anya-ext trust add-publisher"):
            return _replace(command, f"--issuer {GITHUB_ISSUER}", f"--issuer {issuer}")
        if command.startswith("anya-ext verify FILE"):
            (wheel,) = (work / "anya-ext-lightning-watch" / "dist").glob("*.whl")
            (attestation,) = wheel.parent.glob(f"{wheel.name}*attestation*")
            for old, new in (
                ("FILE", str(wheel)),
                ("--identity ID", f"--identity {IDENTITY}"),
                ("--issuer URL", f"--issuer {issuer}"),
                ("[--bundle B | --attestation A | --provenance P]", f"--attestation {attestation}"),
                ("[--trusted-root R | --offline]", f"--trusted-root {trusted_root}"),
            ):
                command = _replace(command, old, new)
            return command
        if "--from all.zip" in command:
            _osv_database(work / "all.zip")
        return command

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["bash", "-c", f"set -eo pipefail\n{command}"],
            capture_output=True, text=True, env=env, cwd=work, check=False, timeout=600,
        )  # fmt: skip
        print(f"$ {command}\n{done.stdout}{done.stderr}", file=sys.stderr)
        return done

    try:
        for line in [*authors, *users]:
            done = sh(substitute(line))
            assert done.returncode == 0, (
                f"README line exited {done.returncode}: {line}\n"
                f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
            )
            for prefix, expected in SAYS.items():
                if line.startswith(prefix):
                    assert expected in done.stdout, f"{line}: {expected!r} not in\n{done.stdout}"
    finally:
        sh("anya-ext registry down")
    listed = json.loads(sh("anya-ext --json list").stdout)
    assert any("lightning-watch" in json.dumps(item) for item in listed), listed
    assert "anya-ext-lightning-watch" in (work / "sbom.json").read_text()
    assert "anya-ext-lightning-watch" in (work / "anya.lock").read_text()
