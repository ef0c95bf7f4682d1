"""Debian's headless Chromium, the one adapter that turns an HTML report into a PDF or a PNG
(no PDF library in the package). ``$ANYA_CHROMIUM`` names another binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from anya_plugins.compliance.errors import ComplianceError

CHROMIUM_ENV: Final = "ANYA_CHROMIUM"
_CANDIDATES: Final = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS: Final = 120.0


def html_to_pdf(html: str, output: Path) -> Path:
    return _render(html, output, f"--print-to-pdf={output}", "--no-pdf-header-footer")


def html_to_png(html: str, output: Path, *, width: int = 1280, height: int = 1600) -> Path:
    return _render(
        html, output, f"--screenshot={output}", f"--window-size={width},{height}",
        "--hide-scrollbars",
    )  # fmt: skip


def chromium_binary() -> str:
    configured = os.environ.get(CHROMIUM_ENV)
    for candidate in (configured,) if configured else _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ComplianceError(
        "no Chromium to print the report with",
        hint="apt-get install chromium (or set ANYA_CHROMIUM); --format json and html need none",
    )


def _render(html: str, output: Path, *options: str) -> Path:
    binary = chromium_binary()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anya-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, "utf-8")
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={Path(tmp) / 'profile'}", *options, page.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise ComplianceError(
                f"Chromium did not finish within {TIMEOUT_SECONDS:.0f} s"
            ) from None
    if done.returncode != 0 or not output.exists() or output.stat().st_size == 0:
        raise ComplianceError(
            f"Chromium wrote no {output.suffix} (exit {done.returncode})",
            hint=done.stderr.strip().splitlines()[-1] if done.stderr.strip() else None,
        )
    return output
