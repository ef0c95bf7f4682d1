"""The registry topology from Python: the embedded registry as primary, replicas following it
and an nginx edge in front of each node (what ``anya-ext registry up --replicas N --edge``,
``registry status`` and ``registry down`` call when a topology exists)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.api.embedded import RegistryUpOptions
    from anya_plugins.registry.embedded import EmbeddedRegistry as RunningRegistry
    from anya_plugins.registry.topology import TopologyStatus


@dataclass(frozen=True)
class TopologyUp:
    """The primary as ``registry up`` reports it, and every node after the topology came up."""

    primary: RunningRegistry
    topology: TopologyStatus


class RegistryTopology:
    """The topology kept in ``state_dir`` (default: the embedded registry's)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir

    def _directory(self) -> Path:
        from anya_plugins.registry.embedded import default_state_dir

        return (self.state_dir or default_state_dir()).resolve()

    def exists(self) -> bool:
        """Whether a topology was brought up here (and not taken down)."""
        from anya_plugins.registry.topology import load

        return bool(load(self._directory()))

    def up(self, options: RegistryUpOptions, *, replicas: int, edge: bool) -> TopologyUp:
        """Bring the primary up (layout, host wheel: as ``registry up``), then ``replicas``
        replicas and, with ``edge``, an nginx edge in front of every node."""
        from anya_plugins.api.embedded import EmbeddedRegistry
        from anya_plugins.registry.topology import start_nodes

        primary = EmbeddedRegistry(self.state_dir).up(options)
        return TopologyUp(primary, start_nodes(primary.state_dir, replicas, edge=edge))

    def status(self) -> TopologyStatus:
        """Each node's URL, edge, serial lag behind the primary, cache hit ratio, health."""
        from anya_plugins.registry.topology import status

        return status(self._directory())

    def down(self) -> tuple[str, ...]:
        """Stop every edge, replica and the primary; what was running. The topology is
        forgotten (a later plain ``registry up`` starts the primary alone)."""
        from anya_plugins.registry.topology import forget, stop_nodes

        directory = self._directory()
        stopped = stop_nodes(directory)
        forget(directory)
        return stopped
