"""A local stand-in for PyPI: a static PEP 503 simple index of wheels the tests build.

The registry's upstream mirror (``anya/upstream``) points here for the whole session, so no
test ever reaches the internet. The upstream is made before the registry starts and never
changes, because devpi caches an upstream's project list and pages.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import threading
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from packaging.utils import canonicalize_name

THIRD_PARTY = "anya-test-thirdparty"
"""A third-party package that exists only upstream; an extension may depend on it."""
THIRD_PARTY_VERSION = "1.4.0"
SQUATTED_EXTENSION = "anya-ext-upstream-squat"
"""An extension name somebody published upstream, where extensions never come from."""
SHADOWED_EXTENSION = "anya-ext-upstream-shadowed"
"""An extension the tests upload to the registry at 1.0.0; upstream has a 9.0.0."""
SHADOW_VERSION = "9.0.0"
PRIVATE_NAME = "acme-internal-tools"
"""A name a test puts on a private index; upstream has a 5.0.0 of it."""


@dataclass(frozen=True)
class StaticIndex:
    """The upstream's simple API URL and the wheels it serves."""

    url: str
    wheels: tuple[Path, ...]


def plain_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    modules: Mapping[str, str],
    requires: Sequence[str] = (),
    keywords: Sequence[str] = (),
) -> Path:
    """A complete, installable pure-Python wheel (METADATA, WHEEL, RECORD and modules)."""
    dist = canonicalize_name(name).replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    if keywords:
        metadata += f"Keywords: {','.join(keywords)}\n"
    files = {
        **{f"{module}.py": source for module, source in modules.items()},
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: anya-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = [f"{path},sha256={_urlsafe_sha256(text.encode())},{len(text.encode())}"
              for path, text in files.items()]  # fmt: skip
    record.append(f"{info}/RECORD,,")
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def upstream_wheels(directory: Path) -> tuple[Path, ...]:
    """What the session's upstream serves."""
    extension_keywords = ("anya-extension", "anya-category:community/experimental",
                          "anya-host-api:>=1.0", "anya-host-api:<2")  # fmt: skip
    return (
        plain_wheel(
            directory, THIRD_PARTY, THIRD_PARTY_VERSION,
            modules={"anya_test_thirdparty": 'ORIGIN = "upstream"\n'},
        ),
        plain_wheel(
            directory, SQUATTED_EXTENSION, "9.0.0",
            modules={"anya_ext_upstream_squat": 'raise SystemExit("squatter code ran")\n'},
            keywords=extension_keywords,
        ),
        plain_wheel(
            directory, SHADOWED_EXTENSION, SHADOW_VERSION,
            modules={"anya_ext_shadowed": 'raise SystemExit("squatter code ran")\n'},
            keywords=extension_keywords,
        ),
        plain_wheel(
            directory, PRIVATE_NAME, "5.0.0",
            modules={"acme_internal_tools": 'raise SystemExit("squatter code ran")\n'},
        ),
    )  # fmt: skip


def write_simple_index(
    root: Path, wheels: Sequence[Path], provenance: Mapping[str, bytes] | None = None
) -> None:
    """``root/simple/`` (PEP 503 pages with sha256 fragments) and ``root/files/``.

    ``provenance``: file name -> the PEP 740 provenance object PyPI would serve for it,
    written beside the file and linked from its anchor (``data-provenance``)."""
    provenance = provenance or {}
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[Path]] = {}
    for wheel in wheels:
        (files / wheel.name).write_bytes(wheel.read_bytes())
        if wheel.name in provenance:
            (files / f"{wheel.name}.provenance").write_bytes(provenance[wheel.name])
        projects.setdefault(canonicalize_name(wheel.name.split("-", 1)[0]), []).append(wheel)
    simple = root / "simple"
    simple.mkdir(exist_ok=True)
    (simple / "index.html").write_text(
        _page("Simple index", (f'<a href="{p}/">{p}</a>' for p in sorted(projects)))
    )
    for project, project_wheels in projects.items():
        links = (
            f'<a href="../../files/{html.escape(w.name)}#sha256='
            f'{hashlib.sha256(w.read_bytes()).hexdigest()}"{_provenance_attribute(w, provenance)}>'
            f"{html.escape(w.name)}</a>"
            for w in project_wheels
        )
        (simple / project).mkdir(exist_ok=True)
        (simple / project / "index.html").write_text(_page(f"Links for {project}", links))


@contextmanager
def serve_static_index(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) in a thread; yields the simple API URL."""
    handler = partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _provenance_attribute(wheel: Path, provenance: Mapping[str, bytes]) -> str:
    if wheel.name not in provenance:
        return ""
    return f' data-provenance="../../files/{html.escape(wheel.name)}.provenance"'


def _page(title: str, links: Iterator[str]) -> str:
    body = "<br>\n".join(links)
    head = f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
    return f"{head}<body>\n{body}\n</body></html>\n"


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
