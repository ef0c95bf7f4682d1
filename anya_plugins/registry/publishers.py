"""Whose signatures a signed index takes: the index's own publishers, else the registry's.

The shipped layout switches ``require_signatures`` on for ``anya/primary`` and
``community/verified`` without naming anyone: who signs a site's releases is the site's
decision, made when the registry is brought up (``anya-ext registry up --publisher IDENTITY
--issuer URL``, remembered in the state directory) or written per index in a layout of its
own. A signed index left without any publisher refuses every upload, saying how to name one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from anya_plugins.errors import UsageError
from anya_plugins.registry.layout import IndexPublisher, Layout

PUBLISHERS_FILE = "publishers.json"
"""In the embedded registry's state directory: the publishers ``registry up`` was given."""

HOW_TO_NAME_PUBLISHERS = (
    "name who signs its releases: anya-ext registry up --publisher IDENTITY --issuer URL "
    "(the embedded registry), or publishers = [{identity = ..., issuer = ...}] for the "
    "index in the layout"
)


def publishers_from_options(
    identities: Sequence[str], issuers: Sequence[str]
) -> tuple[IndexPublisher, ...]:
    """``--publisher`` identities paired with ``--issuer`` URLs: one issuer for every
    identity, or one each, in the same order."""
    if not identities and not issuers:
        return ()
    if not identities:
        raise UsageError("--issuer without --publisher", hint="--publisher IDENTITY --issuer URL")
    if len(issuers) == 1:
        issuers = list(issuers) * len(identities)
    if len(issuers) != len(identities):
        raise UsageError(
            f"{len(identities)} --publisher but {len(issuers)} --issuer",
            hint="give one --issuer for all publishers, or one per --publisher, in order",
        )
    for issuer in issuers:
        if not issuer.startswith(("https://", "http://")):
            raise UsageError(
                f"--issuer {issuer!r} is not an OIDC issuer URL",
                hint="e.g. --issuer https://token.actions.githubusercontent.com",
            )
    return tuple(IndexPublisher(i, s) for i, s in zip(identities, issuers, strict=True))


def with_publishers(layout: Layout, publishers: Sequence[IndexPublisher]) -> Layout:
    """``layout`` with ``publishers`` given to every signed index that names none itself."""
    if not publishers:
        return layout
    indexes = tuple(
        dataclasses.replace(index, publishers=tuple(publishers))
        if index.require_signatures and not index.publishers
        else index
        for index in layout.indexes
    )
    return dataclasses.replace(layout, indexes=indexes)


def without_publishers(layout: Layout) -> tuple[str, ...]:
    """The signed indexes of ``layout`` that name no publisher: they take no upload."""
    return tuple(i.name for i in layout.indexes if i.require_signatures and not i.publishers)


def remember(state_dir: Path, publishers: Sequence[IndexPublisher]) -> None:
    """Keep ``publishers`` for later ``registry up`` runs of this state directory."""
    document = [{"identity": p.identity, "issuer": p.issuer} for p in publishers]
    target = state_dir / PUBLISHERS_FILE
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    temporary.replace(target)


def remembered(state_dir: Path) -> tuple[IndexPublisher, ...]:
    """The publishers an earlier ``registry up`` of this state directory was given."""
    try:
        document = json.loads((state_dir / PUBLISHERS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    return tuple(IndexPublisher(str(p["identity"]), str(p["issuer"])) for p in document)
