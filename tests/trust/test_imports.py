"""The trust modules import without sigstore: it loads only when something is signed or verified."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO

TRUST_MODULES = ("certificate", "errors", "installed", "policy", "roots", "signing", "verification")
HEAVY = ("sigstore", "pypi_attestations", "cryptography", "requests", "pydantic")


def test_importing_the_trust_modules_loads_no_sigstore() -> None:
    imports = "; ".join(f"import anya_plugins.trust.{module}" for module in TRUST_MODULES)
    code = f"import sys; {imports}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )

    assert done.stdout.strip() == "[]"
