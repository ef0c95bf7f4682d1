"""OSV records (https://ossf.github.io/osv-schema/) for the PyPI ecosystem, and whether one
affects a given version.

No maintained Python library evaluates OSV ranges offline: pip-audit sends each version to
the osv.dev API and lets the server decide, ``osv`` (Google's) is archived and pins
``packaging<22``, and ``univers`` leaves its OSV importer empty. So :meth:`Advisory.affects`
follows the schema's own evaluation pseudocode (``IsVulnerable``) line by line, and every
comparison is PEP 440 ordering by ``packaging.version`` — the library pip uses — never a
hand-written version parser.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from anya_plugins.audit import severity as ratings
from anya_plugins.audit.errors import AdvisoryDatabaseError
from anya_plugins.audit.severity import Severity

log = logging.getLogger(__name__)

ECOSYSTEM: Final = "PyPI"
ORDERED_RANGE_TYPES: Final = frozenset({"ECOSYSTEM", "SEMVER"})
"""Range types whose events are versions of the package; ``GIT`` ranges name commits and are
answered by the ``versions`` list instead, as the schema asks."""

EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
_EVENT_KINDS: Final[tuple[EventKind, ...]] = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class Event:
    """One status change on a range's timeline."""

    kind: EventKind
    version: str


@dataclass(frozen=True)
class Range:
    type: str
    events: tuple[Event, ...]

    def includes(self, version: Version) -> bool:
        """``BeforeLimits`` and the event walk of the schema's ``IncludedInRanges``."""
        if self.type not in ORDERED_RANGE_TYPES or not self._before_limits(version):
            return False
        vulnerable = False
        for event, bound in self._sorted_events():
            if event.kind == "introduced":
                if bound is None or version >= bound:
                    vulnerable = True
            elif bound is not None and _closes(event.kind, version, bound):
                vulnerable = False
        return vulnerable

    def fixed_versions(self) -> list[Version]:
        if self.type not in ORDERED_RANGE_TYPES:
            return []
        return [bound for event, bound in self._sorted_events() if event.kind == "fixed" and bound]

    def _before_limits(self, version: Version) -> bool:
        limits = [event for event in self.events if event.kind == "limit"]
        if not limits:
            return True
        for event in limits:
            if "*" in event.version:
                return True
            bound = _version(event.version)
            if bound is not None and version < bound:
                return True
        return False

    def _sorted_events(self) -> list[tuple[Event, Version | None]]:
        """Events in version order; ``introduced: "0"`` (None) sorts before every version and an
        event at the same version as another keeps the order introduced, fixed, last_affected.
        An event whose version is not PEP 440 cannot be placed and is left out, with a warning."""
        placed: list[tuple[Event, Version | None]] = []
        for event in self.events:
            if event.kind == "limit":
                continue
            if event.kind == "introduced" and event.version == "0":
                placed.append((event, None))
                continue
            bound = _version(event.version)
            if bound is None:
                log.warning(
                    "skipping the %s event %r: not a PEP 440 version", event.kind, event.version
                )
                continue
            placed.append((event, bound))
        return sorted(placed, key=_event_order)


def _closes(kind: EventKind, version: Version, bound: Version) -> bool:
    """Whether a ``fixed`` (``v >= fixed``) or ``last_affected`` (``v > last_affected``) event
    ends the vulnerable stretch for ``version``."""
    return version >= bound if kind == "fixed" else version > bound


def _event_order(item: tuple[Event, Version | None]) -> tuple[bool, Version, int]:
    event, bound = item
    return bound is not None, bound or _LOWEST, _EVENT_KINDS.index(event.kind)


_LOWEST: Final = Version("0")


@dataclass(frozen=True)
class Affected:
    """One ``affected`` entry: a package, its affected ranges and versions, its own ratings."""

    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    severity: tuple[Severity, ...]

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    def is_package(self, canonical_name: str) -> bool:
        return self.ecosystem == ECOSYSTEM and self.canonical_name == canonical_name

    def includes(self, version: Version) -> bool:
        """``IncludedInVersions`` or ``IncludedInRanges``."""
        return self._listed(version) or any(item.includes(version) for item in self.ranges)

    def _listed(self, version: Version) -> bool:
        for listed in self.versions:
            parsed = _version(listed)
            if parsed == version or (parsed is None and listed == str(version)):
                return True
        return False


@dataclass(frozen=True)
class Advisory:
    """One OSV record, as far as the gate needs it."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    published: str | None
    withdrawn: str | None
    severity: tuple[Severity, ...]
    """Ratings for the whole record: its CVSS vectors and the database's own word."""
    affected: tuple[Affected, ...]
    source: str
    """The file (or zip member) the record came from."""

    def affects(self, name: str, version: Version) -> bool:
        """The schema's ``IsVulnerable(pkg, v, osv)`` for the PyPI package ``name``."""
        canonical = canonicalize_name(name)
        return any(item.is_package(canonical) and item.includes(version) for item in self.affected)

    def fixed_versions(self, name: str, version: Version) -> tuple[str, ...]:
        """Versions that fix this vulnerability and are newer than ``version``, lowest first."""
        canonical = canonicalize_name(name)
        fixed = {
            bound
            for item in self.affected
            if item.is_package(canonical)
            for each in item.ranges
            for bound in each.fixed_versions()
            if bound > version
        }
        return tuple(str(bound) for bound in sorted(fixed))

    def severity_for(self, name: str) -> Severity | None:
        """The worst rating for ``name``: the package's own ratings if it has any, else the
        record's."""
        canonical = canonicalize_name(name)
        own = [
            rating
            for item in self.affected
            if item.is_package(canonical)
            for rating in item.severity
        ]
        return ratings.highest(own or self.severity)


def parse_advisory(data: Any, source: str) -> Advisory:
    """An :class:`Advisory` from one decoded OSV JSON document; AdvisoryDatabaseError names the
    file and the field that is not what the schema says."""
    record = _mapping(data, source, "the record")
    advisory_id = _text(record.get("id"), source, "id")
    database_specific = record.get("database_specific")
    database_rating = (
        ratings.from_database(database_specific.get("severity"))
        if isinstance(database_specific, Mapping)
        else None
    )
    record_ratings = ratings.from_osv(_list(record.get("severity"), source, "severity"))
    return Advisory(
        id=advisory_id,
        aliases=tuple(
            _text(alias, source, "aliases[]")
            for alias in _list(record.get("aliases"), source, "aliases")
        ),
        summary=_first_line(record.get("summary") or record.get("details")),
        published=_optional_text(record.get("published"), source, "published"),
        withdrawn=_optional_text(record.get("withdrawn"), source, "withdrawn"),
        severity=(*record_ratings, *([database_rating] if database_rating else [])),
        affected=tuple(
            _affected(item, source, index)
            for index, item in enumerate(_list(record.get("affected"), source, "affected"))
        ),
        source=source,
    )


def pypi_names(data: Any, source: str) -> set[str]:
    """The canonical names of the PyPI packages one decoded OSV document speaks of, read
    without parsing the rest of it (that waits until one of them is asked about)."""
    record = _mapping(data, source, "the record")
    names: set[str] = set()
    for index, item in enumerate(_list(record.get("affected"), source, "affected")):
        where = f"affected[{index}].package"
        package = _mapping(
            _mapping(item, source, f"affected[{index}]").get("package"), source, where
        )
        if package.get("ecosystem") == ECOSYSTEM:
            names.add(canonicalize_name(_text(package.get("name"), source, f"{where}.name")))
    return names


def _affected(data: Any, source: str, index: int) -> Affected:
    where = f"affected[{index}]"
    item = _mapping(data, source, where)
    package = _mapping(item.get("package"), source, f"{where}.package")
    return Affected(
        ecosystem=_text(package.get("ecosystem"), source, f"{where}.package.ecosystem"),
        name=_text(package.get("name"), source, f"{where}.package.name"),
        ranges=tuple(
            _range(entry, source, f"{where}.ranges[{number}]")
            for number, entry in enumerate(_list(item.get("ranges"), source, f"{where}.ranges"))
        ),
        versions=tuple(
            _text(version, source, f"{where}.versions[]")
            for version in _list(item.get("versions"), source, f"{where}.versions")
        ),
        severity=tuple(ratings.from_osv(_list(item.get("severity"), source, f"{where}.severity"))),
    )


def _range(data: Any, source: str, where: str) -> Range:
    item = _mapping(data, source, where)
    events = []
    for number, entry in enumerate(_list(item.get("events"), source, f"{where}.events")):
        event = _mapping(entry, source, f"{where}.events[{number}]")
        kinds = [kind for kind in _EVENT_KINDS if kind in event]
        if len(kinds) != 1:
            raise AdvisoryDatabaseError(
                source,
                f"{where}.events[{number}] must hold exactly one of {', '.join(_EVENT_KINDS)}",
            )
        kind = kinds[0]
        events.append(Event(kind, _text(event[kind], source, f"{where}.events[{number}].{kind}")))
    return Range(type=_text(item.get("type"), source, f"{where}.type"), events=tuple(events))


def _first_line(text: Any) -> str:
    """The summary is one line; ``details`` is Markdown, whose first line serves instead."""
    if not isinstance(text, str):
        return ""
    lines = [line.strip() for line in text.strip().splitlines()]
    return lines[0] if lines else ""


@lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _mapping(value: Any, source: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AdvisoryDatabaseError(source, f"{where} is not a JSON object", hint=_HINT)
    return value


def _list(value: Any, source: str, where: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AdvisoryDatabaseError(source, f"{where} is not a JSON array", hint=_HINT)
    return value


def _text(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise AdvisoryDatabaseError(source, f"{where} is missing or not a string", hint=_HINT)
    return value


def _optional_text(value: Any, source: str, where: str) -> str | None:
    return None if value is None else _text(value, source, where)


_HINT = "the advisories must be OSV JSON records (https://ossf.github.io/osv-schema/); fix or \
remove that file, or download them again"
