"""What a client writes to use each index of a running registry: the ``[sources]`` table of
``extensions.toml``, and the index URL for pip and uv (``anya-ext registry status``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from anya_plugins.registry.layout import IndexSpec, Layout

DEFAULT_SOURCES = {"anya/primary": "primary", "community/verified": "community"}
"""The layout indexes behind ``anya-ext``'s default sources."""


@dataclass(frozen=True)
class IndexClientSettings:
    """How to point a client at one index."""

    index: str
    """``user/index``."""
    simple_url: str
    source: str | None
    """The ``[sources]`` entry that reads this index (``primary``, ``community``,
    ``enterprise.<org>`` for a private one); None for an index no default source reads."""
    private: bool
    """The index is an organisation's own: its URL needs the organisation's credentials."""
    tuf_root: str | None = None
    """The registry's TUF root, when it signs this index (the source's ``tuf_root``)."""

    @property
    def toml(self) -> str:
        """The ``extensions.toml`` lines for this index (empty when no source reads it)."""
        if self.source is None:
            return ""
        lines = [f"[sources.{self.source}]", f'url = "{self.simple_url}"']
        if self.tuf_root is not None:
            lines.append(f'tuf_root = "{self.tuf_root}"')
        if self.private:
            lines.append("# credentials: user:password@ in the url, or a ~/.netrc entry")
        return "\n".join(lines)

    @property
    def pip(self) -> str:
        return f"pip install --index-url {self.simple_url} NAME"

    @property
    def uv(self) -> str:
        return f"uv pip install --index-url {self.simple_url} NAME"


def client_settings(url: str, layout: Layout) -> tuple[IndexClientSettings, ...]:
    """The client settings of every index of ``layout`` on the registry at ``url``."""
    return tuple(_settings(url.rstrip("/"), spec) for spec in layout.indexes)


def with_tuf_root(
    clients: tuple[IndexClientSettings, ...], root: Path, indexes: Iterable[str]
) -> tuple[IndexClientSettings, ...]:
    """``clients`` with ``root`` as the ``tuf_root`` of those of ``indexes`` (the signed ones)."""
    signed = set(indexes)
    return tuple(
        replace(client, tuf_root=str(root)) if client.index in signed else client
        for client in clients
    )


def _settings(base: str, spec: IndexSpec) -> IndexClientSettings:
    if spec.private:
        source: str | None = f"enterprise.{spec.name.split('/', 1)[0]}"
    else:
        source = DEFAULT_SOURCES.get(spec.name)
    return IndexClientSettings(
        index=spec.name,
        simple_url=f"{base}/{spec.name}/+simple/",
        source=source,
        private=spec.private,
    )
