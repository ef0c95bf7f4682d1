"""The extension contract, read from standard core metadata without importing code.

The same parser serves an installed distribution, a wheel file on disk and the
METADATA an index serves (PEP 658), so the index, the installer and the host
agree on what an extension declares.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from anya_plugins.errors import MetadataError
from anya_plugins.metadata.features import Feature, parse_features
from anya_plugins.metadata.platforms import platform_names, tags_from_wheel_filename
from anya_plugins.metadata.taxonomy import (
    CATEGORIES,
    CATEGORY_PREFIX,
    DEFAULT_FEATURE_PREFIX,
    HOST_API_PREFIX,
    is_category,
)

if TYPE_CHECKING:
    from importlib.metadata import Distribution

_KEYWORD_SEPARATORS = re.compile(r"[,\s]+")


class CoreFields(Protocol):
    """What both ``email.message.Message`` and ``importlib.metadata.PackageMetadata`` offer."""

    def get_all(self, name: str, failobj: Any = None) -> list[Any] | None: ...


@dataclass(frozen=True)
class ExtensionMetadata:
    """Everything an extension declares about itself, as data."""

    dist_name: str
    version: str
    summary: str
    category: str
    host_api: str
    features: tuple[Feature, ...] = ()
    wheel_tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = field(default=(), compare=False)

    @property
    def platforms(self) -> tuple[str, ...]:
        """Friendly platform names from the wheel tags (``pure`` for py3-none-any)."""
        return platform_names(self.wheel_tags)

    @property
    def default_features(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features if feature.default)


def parse_core_metadata(
    extension: str, fields: CoreFields, wheel_tags: Sequence[str] = ()
) -> ExtensionMetadata:
    """Read the contract from core metadata fields; raise MetadataError naming the field."""
    dist_name = _required(extension, fields, "Name")
    version = _required(extension, fields, "Version")
    keywords = _keywords(fields)
    categories = [
        kw.removeprefix(CATEGORY_PREFIX) for kw in keywords if kw.startswith(CATEGORY_PREFIX)
    ]
    if not categories:
        raise MetadataError(
            extension,
            "Keywords",
            f"no {CATEGORY_PREFIX!r} entry",
            hint=f"add a keyword {CATEGORY_PREFIX}<category>, one of: {', '.join(CATEGORIES)}",
        )
    if len(categories) > 1:
        raise MetadataError(
            extension, "Keywords", f"more than one category: {', '.join(categories)}"
        )
    category = categories[0]
    if not is_category(category):
        raise MetadataError(
            extension,
            "Keywords",
            f"unknown category {category!r}",
            hint=f"use one of: {', '.join(CATEGORIES)}",
        )
    host_api = _host_api(extension, keywords)
    features = parse_features(
        extension,
        dist_name,
        fields.get_all("Provides-Extra") or (),
        fields.get_all("Requires-Dist") or (),
        (
            kw.removeprefix(DEFAULT_FEATURE_PREFIX)
            for kw in keywords
            if kw.startswith(DEFAULT_FEATURE_PREFIX)
        ),
    )
    return ExtensionMetadata(
        dist_name=dist_name,
        version=version,
        summary=_first(fields, "Summary"),
        category=category,
        host_api=host_api,
        features=features,
        wheel_tags=tuple(wheel_tags),
        keywords=keywords,
    )


def parse_metadata_text(
    extension: str, text: str, wheel_tags: Sequence[str] = ()
) -> ExtensionMetadata:
    """Read the contract from the text of a METADATA file (as an index serves it, PEP 658)."""
    return parse_core_metadata(extension, HeaderParser().parsestr(text), wheel_tags)


def read_wheel(path: Path) -> ExtensionMetadata:
    """Read the contract of a wheel file before it is installed."""
    tags = tags_from_wheel_filename(path.name)
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise MetadataError(
                    path.name, "METADATA", f"expected one .dist-info/METADATA, found {len(names)}"
                )
            text = archive.read(names[0]).decode("utf-8")
    except zipfile.BadZipFile as exc:
        raise MetadataError(path.name, "METADATA", f"not a readable wheel: {exc}") from exc
    return parse_metadata_text(path.name, text, tags)


def installed_wheel_tags(dist: Distribution) -> tuple[str, ...]:
    """The ``Tag:`` lines of an installed distribution's WHEEL file (empty if not from a wheel)."""
    text = dist.read_text("WHEEL") or ""
    return tuple(
        sorted(
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")
        )
    )


def _required(extension: str, fields: CoreFields, name: str) -> str:
    value = _first(fields, name)
    if not value:
        raise MetadataError(extension, name, "missing")
    return str(value)


def _first(fields: CoreFields, name: str) -> str:
    values = fields.get_all(name) or ()
    return str(values[0]) if values else ""


def _keywords(fields: CoreFields) -> tuple[str, ...]:
    return split_keywords(str(line) for line in fields.get_all("Keywords") or ())


def split_keywords(lines: Iterable[str]) -> tuple[str, ...]:
    """The Keywords field split as the contract reads it: on commas and white space."""
    return tuple(kw for line in lines for kw in _KEYWORD_SEPARATORS.split(line) if kw)


def host_api_clauses(keywords: Iterable[str]) -> list[str]:
    """The ``anya-host-api:`` clauses of the keywords, prefix removed (one specifier each)."""
    return [kw.removeprefix(HOST_API_PREFIX) for kw in keywords if kw.startswith(HOST_API_PREFIX)]


def _host_api(extension: str, keywords: Iterable[str]) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    clauses = host_api_clauses(keywords)
    if not clauses:
        raise MetadataError(
            extension,
            "Keywords",
            f"no {HOST_API_PREFIX!r} entry",
            hint=f"add keywords such as {HOST_API_PREFIX}>=1.0 and {HOST_API_PREFIX}<2",
        )
    try:
        return str(SpecifierSet(",".join(clauses)))
    except InvalidSpecifier as exc:
        raise MetadataError(extension, "Keywords", f"invalid host API range: {exc}") from exc
