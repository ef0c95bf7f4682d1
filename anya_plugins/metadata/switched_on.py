"""Which features a choice switches on: ``enables`` followed transitively. Without
dataclasses or packaging, since a listing's features column runs it for every extension."""

from __future__ import annotations

from anya_plugins.metadata.names import canonical

TYPE_CHECKING = False  # typing costs the start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    class Enabling(Protocol):
        """A feature as far as this needs it (a Feature, or the host's FeatureRecord)."""

        @property
        def name(self) -> str: ...

        @property
        def enables(self) -> tuple[str, ...]: ...


def closure(features: Iterable[Enabling], chosen: Iterable[str]) -> tuple[str, ...]:
    """All features switched on by ``chosen``, following ``enables`` transitively."""
    by_name = {feature.name: feature for feature in features}
    seen: set[str] = set()
    pending = [canonical(name) for name in chosen]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        feature = by_name.get(name)
        if feature is not None:
            pending.extend(feature.enables)
    return tuple(sorted(seen))
