"""Adding a trusted publisher to the user's configuration file (``anya-ext trust
add-publisher``), so nobody has to hand-write inline TOML.

The entry goes to ``[[trust.publishers]]``, or with an organisation to
``[trust.enterprise.<org>] allowed_publishers`` (which then replaces the top-level
publishers for that organisation's source). The file is changed the way ``config set``
changes it: under its lock, re-read, comments and layout kept, replaced atomically; the
policy it would hold is read back with the policy's own checks before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.items import AoT, Array, Table

from anya_plugins.config.atomic import write_atomic
from anya_plugins.config.layers import read_file_layer
from anya_plugins.config.store import _document, _locked
from anya_plugins.errors import ConfigError
from anya_plugins.trust.policy import Publisher, parse_trust_policy


@dataclass(frozen=True)
class PublisherAdded:
    """What ``add_publisher`` did."""

    path: Path
    key: str
    """``trust.publishers`` or ``trust.enterprise.<org>.allowed_publishers``."""
    publisher: Publisher
    added: bool
    """False when the file already held exactly this publisher (nothing was written)."""


def add_publisher(
    path: Path,
    identity: str,
    issuer: str,
    names: Sequence[str],
    *,
    org: str | None = None,
    sources: Sequence[str] | None = None,
) -> PublisherAdded:
    """Add one publisher to the configuration file at ``path`` (created if missing)."""
    if org is not None and sources is not None:
        raise ConfigError(
            "--sources does not go with --org",
            hint="an organisation's allowed_publishers apply to its own source only",
        )
    _check_issuer(issuer)
    entry: dict[str, Any] = {"identity": identity, "issuer": issuer, "names": list(names)}
    if sources is not None:
        entry["sources"] = list(sources)
    key = "trust.publishers" if org is None else f"trust.enterprise.{org}.allowed_publishers"
    with _locked(path):
        file = read_file_layer(path)
        document = _document(file)
        trust = _table(document, "trust")
        if org is None:
            existing = trust.get("publishers")
        else:
            organisation = _table(_table(trust, "enterprise", super_table=True), org)
            existing = organisation.get("allowed_publishers")
        if existing is not None and _holds(existing, entry):
            return PublisherAdded(path, key, _publisher(entry), added=False)
        if org is None:
            trust["publishers"] = _appended(existing, entry, inline=False)
        else:
            organisation["allowed_publishers"] = _appended(existing, entry, inline=True)
        parse_trust_policy(document.unwrap()["trust"], base_dir=path.parent)
        write_atomic(path, tomlkit.dumps(document))
    return PublisherAdded(path, key, _publisher(entry), added=True)


def _check_issuer(issuer: str) -> None:
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(
            f"the issuer {issuer!r} is not a URL",
            hint="give the OIDC issuer as the certificate records it, "
            "e.g. https://token.actions.githubusercontent.com",
        )


def _table(parent: Any, name: str, *, super_table: bool = False) -> Any:
    if name not in parent:
        parent[name] = tomlkit.table(is_super_table=super_table or None)
    table = parent[name]
    if not isinstance(table, (Table, dict)):
        raise ConfigError(f"{name} in the configuration file is not a table")
    return table


def _holds(existing: Any, entry: dict[str, Any]) -> bool:
    items = existing.unwrap() if hasattr(existing, "unwrap") else existing
    return isinstance(items, list) and any(item == entry for item in items)


def _appended(existing: Any, entry: dict[str, Any], *, inline: bool) -> Any:
    """``existing`` (an array of tables, an array of inline tables or nothing) plus ``entry``,
    written in the style the file already uses."""
    if existing is None:
        if not inline:
            tables = tomlkit.aot()
            tables.append(_item(entry, inline=False))
            return tables
        array = tomlkit.array()
        array.multiline(True)
        array.append(_item(entry, inline=True))
        return array
    if isinstance(existing, AoT):
        existing.append(_item(entry, inline=False))
        return existing
    if isinstance(existing, Array):
        existing.append(_item(entry, inline=True))
        return existing
    raise ConfigError(
        f"the configuration file's {'allowed_publishers' if inline else 'trust.publishers'} "
        "is not a list of publisher tables",
        hint="fix it by hand, then add the publisher again",
    )


def _item(entry: dict[str, Any], *, inline: bool) -> Any:
    table = tomlkit.inline_table() if inline else tomlkit.table()
    for key, value in entry.items():
        table[key] = value
    if not inline:
        table.add(tomlkit.nl())
    return table


def _publisher(entry: dict[str, Any]) -> Publisher:
    sources = entry.get("sources")
    return Publisher(
        identity=entry["identity"],
        issuer=entry["issuer"],
        names=tuple(entry["names"]),
        sources=tuple(sources) if sources is not None else None,
    )
