"""The embedded registry: a local devpi with the Anya layout, brought up, stopped, inspected
and re-laid-out from Python (what ``anya-ext registry up|down|status|apply`` call)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.registry.client_settings import IndexClientSettings
    from anya_plugins.registry.devpi import ApplyReport, Credentials
    from anya_plugins.registry.embedded import EmbeddedRegistry as RunningRegistry
    from anya_plugins.registry.embedded_tuf import EmbeddedTuf
    from anya_plugins.registry.server import RegistryStatus


@dataclass(frozen=True)
class RegistryUpOptions:
    """How :meth:`EmbeddedRegistry.up` starts the registry. ``upstream``, ``trusted_root``
    and ``publishers`` are remembered in the state directory for later ``up`` calls."""

    port: int | None = None
    """Default 3141; ignored when the registry is already running."""
    layout: Path | None = None
    """Layout file (default: the shipped one)."""
    upstream: str | None = None
    """Simple index the upstream mirror caches (default https://pypi.org/simple/)."""
    host_wheel: Path | None = None
    """anya-plugins wheel to publish to the host index (default: built from the checkout)."""
    trusted_root: Path | None = None
    """Sigstore trusted root (JSON) signed uploads must chain to (default: public-good)."""
    publishers: tuple[str, ...] = ()
    """Identities whose releases the signed indexes take (none: they take no upload)."""
    issuers: tuple[str, ...] = ()
    """OIDC issuers of ``publishers``: one for all, or one each in the same order."""
    tuf: Path | None = None
    """TUF directory (``anya-ext registry tuf init --dir``): devpi signs TUF metadata for the
    indexes it delegates to (``--anya-tuf``)."""


@dataclass(frozen=True)
class RegistryState:
    """Whether the embedded registry runs (``node``) and how clients use each of its
    indexes (``clients``: empty when it is not running)."""

    node: RegistryStatus
    clients: tuple[IndexClientSettings, ...]
    tuf: EmbeddedTuf | None = None
    """The TUF signing it was brought up with (None: no TUF)."""

    @property
    def running(self) -> bool:
        return self.node.running


class EmbeddedRegistry:
    """The embedded registry kept in ``state_dir`` (default: ``$ANYA_REGISTRY_DIR``, else
    ``registry`` in the user data directory, where the default sources look for it)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir

    def up(self, options: RegistryUpOptions = RegistryUpOptions()) -> RunningRegistry:
        """Start it unless it runs, apply the layout (idempotently), publish anya-plugins to
        the host index; the result names what changed and the signed indexes that take no
        upload for want of a publisher."""
        from anya_plugins.registry.embedded import DEFAULT_PORT, up
        from anya_plugins.registry.publishers import publishers_from_options

        return up(
            self.state_dir,
            port=options.port or DEFAULT_PORT,
            layout_path=options.layout,
            upstream=options.upstream,
            host_wheel=options.host_wheel,
            trusted_root=options.trusted_root,
            publishers=publishers_from_options(options.publishers, options.issuers),
            tuf=options.tuf,
        )

    def down(self) -> bool:
        """Stop it; False when it was not running."""
        from anya_plugins.registry.embedded import down

        return down(self.state_dir)

    def status(self, layout: Path | None = None) -> RegistryState:
        """Whether it runs, where, and (when it runs) each index of ``layout`` (default: the
        shipped one) as the ``[sources]`` table, pip and uv would name it; with TUF, the
        root clients of the signed indexes set as ``tuf_root``."""
        from anya_plugins.registry.client_settings import client_settings, with_tuf_root
        from anya_plugins.registry.embedded import default_layout, registry_status
        from anya_plugins.registry.embedded_tuf import embedded_tuf
        from anya_plugins.registry.layout import load_layout

        node = registry_status(self.state_dir)
        tuf = embedded_tuf(node.state_dir)
        clients = (
            client_settings(str(node.url), load_layout(layout or default_layout()))
            if node.running
            else ()
        )
        if tuf is not None:
            clients = with_tuf_root(clients, tuf.tuf_root, tuf.indexes)
        return RegistryState(node, clients, tuf)

    def apply(self, layout: Path) -> ApplyReport:
        """Apply a layout file to the running registry as its administrator, giving its
        signed indexes the publishers ``up`` remembered."""
        from anya_plugins.registry.devpi import apply_layout
        from anya_plugins.registry.embedded import user_credentials
        from anya_plugins.registry.layout import load_layout
        from anya_plugins.registry.publishers import remembered, with_publishers

        loaded = load_layout(layout)
        current = _running(self.state_dir)
        admin = user_credentials("root", self.state_dir)
        assert admin is not None
        return apply_layout(
            str(current.url), with_publishers(loaded, remembered(current.state_dir)), admin
        )

    @staticmethod
    def apply_to(url: str, layout: Path, admin: Credentials) -> ApplyReport:
        """Apply a layout file to any devpi server at ``url`` as ``admin``."""
        from anya_plugins.registry.devpi import apply_layout
        from anya_plugins.registry.layout import load_layout

        return apply_layout(url, load_layout(layout), admin)


def _running(state_dir: Path | None) -> RegistryStatus:
    """The embedded registry's status; a usage error when it is not running."""
    from anya_plugins.errors import UsageError
    from anya_plugins.registry.embedded import registry_status

    current = registry_status(state_dir)
    if not current.running:
        raise UsageError("the embedded registry is not running", hint="anya-ext registry up")
    return current
