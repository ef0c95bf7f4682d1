"""The floor of a verified install's design, measured rather than estimated (not built):
``python -P verified_floor.py PROJECT TARGET_PYTHON UV``, run by the install section with the
same configuration, trust policy and caches as ``anya-ext install``.

``anya-ext install`` runs uv twice: a dry run for the plan (against the pages it checked
itself) and, once every file of the plan passed its checks, an install of those files. The
leanest verified design would run uv once: resolve, download and install through the
checked pages, each wheel served to uv only after the transaction's per-file checks passed
on it (its signature verified in the process started first thing, as the console does).
This script is that design and nothing more: the production transaction's checks, pages,
verifying process and fingerprints, one uv run. It leaves out what the real install adds
around it — the install journal (all-or-nothing), the set-level checks that need the
whole plan before anything installs (the vulnerability gate), receipts, pins and the audit
log — so no verified install of this shape can be faster; the report sets it beside the
real install and uv.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(project: str, target_python: str, uv: str) -> int:
    from anya_plugins.gc_tuning import collect_rarely

    collect_rarely()
    from anya_plugins.trust.verify_process import start_ahead

    start_ahead()  # as the console script does for an install
    from anya_plugins.install.child import run_child
    from anya_plugins.install.receipts import write_all_fingerprints
    from anya_plugins.install.resolver import Pin, resolver_environment
    from anya_plugins.install.service import Target, transaction_for
    from anya_plugins.install.transaction import Candidate
    from anya_plugins.sources.simple import SimpleIndex
    from anya_plugins.sources.snapshot import CheckedPages

    transaction = transaction_for(Target(python=Path(target_python)))
    served: list[str] = []

    class CheckedBeforeServed(CheckedPages):
        """A wheel reaches uv only once every per-file check of the transaction passed."""

        def read_file(self, project: str, filename: str) -> Path | bytes:
            file = super().read_file(project, filename)
            if not filename.endswith(".metadata"):
                page = self.page(project)
                link = next(link for link in page.files if link.filename == filename)
                candidate = Candidate(
                    Pin(page.name, str(link.version)),
                    link,
                    self.file(link).result(),
                    transaction.options.source,
                    "",
                    None,
                    self.provenance(page.name, link).result(),
                )
                for check in transaction.file_checks:
                    check(candidate)
                served.append(page.name)
            return file

    index = SimpleIndex.from_settings(transaction.settings, transaction.options.source)
    with (
        tempfile.TemporaryDirectory(prefix="anya-floor-") as scratch,
        CheckedBeforeServed(
            index,
            Path(scratch),
            on_fetched=transaction.check_ahead,
            remembered_provenance=transaction.kept_provenance,
        ) as pages,
    ):
        pages.page(project)
        done = run_child(
            [uv, "pip", "install", "-q", "--python", target_python, "--index-url", pages.url,
             "--only-binary", ":all:", "--no-config", project],
            environ=resolver_environment(os.environ),
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        write_all_fingerprints(transaction.env, served)
    if len(transaction.trust_decisions) != len(served):
        print(
            f"{len(served)} files served, {len(transaction.trust_decisions)} verified",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
