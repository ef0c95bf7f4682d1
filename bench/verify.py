"""Verification: one signed wheel and a set of 50, and hash throughput against sha256sum.

Wheels are signed as PEP 740 attestations by a local Sigstore instance (Fulcio, Rekor and an
OIDC issuer on 127.0.0.1) and verified with ``anya_plugins.trust.verification.verify_file``
against that instance's trusted root, offline, under a policy that trusts the signer: the
same call the install transaction makes for every file. A fresh process that imports the
verifier and checks one wheel shows the fixed cost an ``anya-ext install`` pays once.

Hashing: ``hashlib.file_digest`` (as ``verify_file`` hashes), a 64 KiB streamed
``hashlib.sha256`` (as ``sources/download.py`` hashes while downloading) and coreutils'
``sha256sum``, on the same file, read from the page cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from anya_plugins.trust.verification import TrustDecision, verify_file
from anya_sigstore_local import LocalSigstore
from bench.environments import anya_venv, clean_env, plain, require_tool, write_wheel
from bench.measure import BenchError, check_output, time_call, time_process
from bench.options import Options, log, run_alone
from bench.report import Row, Section, with_ratios
from bench.signing import IDENTITY, attest, policy

TITLE = "Signature verification and hashing"

SET_SIZE = 50
QUICK_SET_SIZE = 3
REPEAT = 7
HASH_MIB = 256
QUICK_HASH_MIB = 4
STREAM_CHUNK = 64 * 1024
"""``anya_plugins.sources.http.CHUNK_SIZE``: what a download is hashed in."""

SHA256SUM = "sha256sum (coreutils)"

_FRESH_PROCESS = """
import sys
from pathlib import Path
from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.verification import TrustDecision, verify_file
wheel, attestation, root, identity, issuer, name = sys.argv[1:]
policy = TrustPolicy(trusted_root=Path(root), publishers=(Publisher(identity, issuer, ("*",)),))
verify_file(Path(wheel), bundle=None, attestation=Path(attestation).read_bytes(),
            dist_name=name, source="primary", policy=policy, offline=True)
"""


def run(options: Options) -> Section:
    set_size = QUICK_SET_SIZE if options.quick else SET_SIZE
    repeat = options.repeats(REPEAT, quick=1)
    rows: list[Row] = []
    with options.work_dir("verify") as work:
        with LocalSigstore(work / "sigstore") as sigstore:
            dist_dir = work / "dist"
            dist_dir.mkdir()
            dists = [plain(f"bench-verify-{number:03d}") for number in range(set_size)]
            wheels = [write_wheel(dist, dist_dir) for dist in dists]
            log(f"verify: signing {len(wheels)} wheels with the local Sigstore")
            attestations = [path.read_bytes() for path in attest(sigstore, wheels)]
            trust = policy(sigstore)

            def verify(number: int) -> TrustDecision:
                return verify_file(
                    wheels[number],
                    bundle=None,
                    attestation=attestations[number],
                    dist_name=dists[number].name,
                    source="primary",
                    policy=trust,
                    offline=True,
                )

            log("verify: one wheel, then the set")
            if verify(0).identity != IDENTITY:
                raise BenchError("verify_file did not find the benchmark's signature")
            one = time_call(lambda: verify(0), repeat=repeat, min_seconds=0.2)
            everything = time_call(
                lambda: [verify(n) for n in range(set_size)], repeat=repeat, min_seconds=0
            )
            rows.append(Row("1 wheel", "verify_file (in-process)", one * 1000, "ms"))
            rows.append(
                Row(
                    f"{set_size} wheels",
                    "verify_file (in-process, one after another)",
                    everything * 1000,
                    "ms",
                    detail=f"{everything * 1000 / set_size:.1f} ms per wheel",
                )
            )
            log("verify: a venv with anya-plugins, for the fresh-process run")
            fresh = time_process(
                [anya_venv(work / "anya").python, "-c", _FRESH_PROCESS, wheels[0],
                 str(wheels[0]) + ".publish.attestation", sigstore.trusted_root_path, IDENTITY,
                 sigstore.issuer_url, dists[0].name],
                runs=options.repeats(5), warmup=1, env=clean_env(),
            )  # fmt: skip
            rows.append(
                Row(
                    "1 wheel, fresh process",
                    "python: import the verifier, verify one",
                    fresh.median_ms,
                    "ms",
                    detail=fresh.detail(),
                )
            )
        rows += _hash_rows(work, QUICK_HASH_MIB if options.quick else HASH_MIB, repeat)
    return Section(
        "verify",
        TITLE,
        SHA256SUM,
        with_ratios(rows, SHA256SUM),
        notes=(
            "Verification is offline against the local Sigstore's trusted root: certificate "
            "chain, SCT, inclusion proof, DSSE signature, in-toto subject and the policy's "
            "publisher.",
            "Throughput in MB/s (10^6 bytes per second) of the same file, warm in the page "
            "cache; sha256sum includes its process start.",
        ),
    )


def _hash_rows(work: Path, mib: int, repeat: int) -> list[Row]:
    sha256sum = require_tool("sha256sum", "coreutils")
    blob = work / "blob.bin"
    with blob.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))
    size_mb = blob.stat().st_size / 1e6
    expected = check_output([sha256sum, blob]).split()[0]

    def file_digest() -> str:
        with blob.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    def streamed() -> str:
        digest = hashlib.sha256()
        with blob.open("rb") as handle:
            while chunk := handle.read(STREAM_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    case = f"{mib} MiB file"
    rows = []
    log(f"verify: hashing a {mib} MiB file")
    for label, function in (
        ("hashlib.file_digest (trust/verification.py)", file_digest),
        ("hashlib.sha256, 64 KiB chunks (sources/download.py)", streamed),
    ):
        if function() != expected:
            raise BenchError(f"{label} disagrees with sha256sum")
        seconds = time_call(function, repeat=repeat, min_seconds=0)
        rows.append(Row(case, label, size_mb / seconds, "MB/s"))
    timing = time_process([sha256sum, blob], runs=repeat, warmup=1)
    rows.append(Row(case, SHA256SUM, size_mb / timing.median_s, "MB/s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Signature verification and hash throughput", argv)


if __name__ == "__main__":
    raise SystemExit(main())
