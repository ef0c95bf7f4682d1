"""Extensions installed into a directory, for in-process hosts over it (``Host(path=...)``)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Install = Callable[[str, str], None]

KEYWORDS = (
    "anya-extension,anya-category:community/experimental,anya-host-api:>=1.0,anya-host-api:<2"
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "site"
    directory.mkdir()
    monkeypatch.setenv("ANYA_CONFIG", str(tmp_path / "extensions.toml"))
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    sys.path.insert(0, str(directory))
    before = set(sys.modules)
    yield directory
    sys.path.remove(str(directory))
    for name in set(sys.modules) - before:
        if name.startswith("guard_"):
            del sys.modules[name]


@pytest.fixture
def install(site: Path) -> Install:
    """Write extension ``name`` (module ``guard_<name>`` holding ``source``) into ``site`` as
    an installer would leave it: the module and its ``.dist-info``."""

    def write(name: str, source: str) -> None:
        module = f"guard_{name}"
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        dist_info = site / f"anya_ext_guard_{name}-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: anya-ext-guard-{name}\nVersion: 1.0\n"
            f"Summary: {name}\nKeywords: {KEYWORDS}\n"
        )
        (dist_info / "entry_points.txt").write_text(f"[anya.extensions]\n{name} = {module}\n")
        importlib.invalidate_caches()

    return write
