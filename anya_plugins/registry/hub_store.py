"""The community hub's data, kept on the index: reviews, moderation, collections, roles.

Pure model and validation; the devpi adapter (``plugin_hub``) reads the document from the
index's ``custom_data`` and writes it back in the request's write transaction, so the hub
data replicates and is exported with the index (``devpi-export`` carries ``custom_data``,
it does not carry plugin keyfs keys).

The document (``custom_data["anya_hub"]``)::

    {"reviews": {PROJECT: {USER: REVIEW}}, "collections": {NAME: COLLECTION},
     "roles": {"admins": [...], "curators": [...]}, "limits": {"writes_per_hour": N}}

Every input is checked here before anything is stored: lengths, ranges, UTF-8 (no lone
surrogates), no control characters but newlines and tabs in a review's body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from anya_plugins.errors import AnyaError

HUB_KEY = "anya_hub"
"""The key of the hub's document inside the index's ``custom_data``."""
TITLE_MAX = 120
BODY_MAX = 5000
REASON_MAX = 500
COLLECTION_TITLE_MAX = 120
COLLECTION_DESCRIPTION_MAX = 2000
COLLECTION_ENTRIES_MAX = 50
DEFAULT_WRITES_PER_HOUR = 30
"""How many hub writes (reviews, flags, votes) one user may make an hour, by default."""
_COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FEATURE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class HubInputError(AnyaError):
    """A hub request carried a value the hub does not store (HTTP 400)."""

    exit_code = 2


def checked_text(value: object, what: str, *, maximum: int, minimum: int = 1,
                 multiline: bool = False) -> str:  # fmt: skip
    """``value`` as stored text: a str of valid UTF-8, stripped, within the lengths."""
    if not isinstance(value, str):
        raise HubInputError(f"{what} must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise HubInputError(f"{what} is not valid UTF-8") from None
    text = value.strip().replace("\r\n", "\n")
    allowed = "\n\t" if multiline else ""
    if any(not c.isprintable() and c not in allowed for c in text):
        raise HubInputError(f"{what} contains control characters")
    if len(text) < minimum:
        raise HubInputError(f"{what} is empty" if minimum == 1 else f"{what} is too short")
    if len(text) > maximum:
        raise HubInputError(f"{what} is longer than {maximum} characters")
    return text


def checked_rating(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise HubInputError("rating must be a whole number from 1 to 5")
    return value


@dataclass(frozen=True)
class Revision:
    """One earlier text of a review (kept when the review is edited)."""

    version: str
    rating: int
    title: str
    body: str
    verified: bool
    at: float


@dataclass(frozen=True)
class Moderation:
    by: str
    reason: str
    at: float


@dataclass(frozen=True)
class Review:
    """One user's review of one extension (one per user and extension; edits keep history)."""

    project: str
    user: str
    version: str
    rating: int
    title: str
    body: str
    verified: bool
    """The reviewer sent a download receipt the registry signed for this user and project."""
    created: float
    updated: float
    history: tuple[Revision, ...] = ()
    hidden: Moderation | None = None
    flags: tuple[Moderation, ...] = ()
    helpful: tuple[str, ...] = ()
    """Users who marked the review helpful."""

    def as_json(self, *, moderation: bool = True) -> dict[str, object]:
        """The review as the JSON API shows it; without ``moderation`` the flaggers are left out."""
        document = asdict(self)
        document["helpful"] = len(self.helpful)
        if not moderation:
            document["flags"] = len(self.flags)
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Review:
        hidden = data.get("hidden")
        return cls(
            project=str(data["project"]), user=str(data["user"]), version=str(data["version"]),
            rating=int(data["rating"]), title=str(data["title"]), body=str(data["body"]),
            verified=bool(data.get("verified")), created=float(data["created"]),
            updated=float(data["updated"]),
            history=tuple(Revision(**item) for item in data.get("history", ())),
            hidden=Moderation(**hidden) if isinstance(hidden, Mapping) else None,
            flags=tuple(Moderation(**item) for item in data.get("flags", ())),
            helpful=tuple(str(u) for u in data.get("helpful", ())),
        )  # fmt: skip

    def stored(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Aggregate:
    """Mean, count and distribution (ratings 1-5) of the visible reviews."""

    count: int
    mean: float | None
    distribution: dict[int, int]

    @classmethod
    def of(cls, ratings: Iterable[int]) -> Aggregate:
        values = list(ratings)
        distribution = {star: values.count(star) for star in range(1, 6)}
        mean = round(sum(values) / len(values), 2) if values else None
        return cls(len(values), mean, distribution)


@dataclass(frozen=True)
class Ratings:
    """An extension's aggregate, over all its reviews and per version reviewed."""

    project: str
    overall: Aggregate
    by_version: dict[str, Aggregate]


@dataclass(frozen=True)
class CollectionEntry:
    name: str
    specifier: str = ""
    """A PEP 440 range (``>=1.2,<2``); empty: any version."""
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectionVersion:
    version: int
    title: str
    description: str
    entries: tuple[CollectionEntry, ...]
    at: float


@dataclass(frozen=True)
class Collection:
    """A named bundle owned by a curator; every change is a new version, old ones kept."""

    name: str
    owner: str
    versions: tuple[CollectionVersion, ...]

    @property
    def latest(self) -> CollectionVersion:
        return self.versions[-1]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Collection:
        return cls(
            name=str(data["name"]),
            owner=str(data["owner"]),
            versions=tuple(
                CollectionVersion(
                    version=int(v["version"]),
                    title=str(v["title"]),
                    description=str(v.get("description", "")),
                    entries=tuple(
                        CollectionEntry(
                            str(e["name"]),
                            str(e.get("specifier", "")),
                            tuple(str(f) for f in e.get("features", ())),
                        )
                        for e in v["entries"]
                    ),
                    at=float(v["at"]),
                )
                for v in data["versions"]
            ),
        )

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Roles:
    admins: tuple[str, ...] = ()
    """Hub admins: hide any review, manage collections (the index owner always is one)."""
    curators: tuple[str, ...] = ()
    """Users who may publish collections."""


@dataclass(frozen=True)
class HubData:
    """The whole hub document of one index."""

    reviews: dict[str, dict[str, Review]] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    roles: Roles = Roles()
    writes_per_hour: int = DEFAULT_WRITES_PER_HOUR

    @classmethod
    def from_custom_data(cls, custom_data: object) -> HubData:
        document = custom_data.get(HUB_KEY) if isinstance(custom_data, Mapping) else None
        if not isinstance(document, Mapping):
            return cls()
        roles = document.get("roles") or {}
        limits = document.get("limits") or {}
        return cls(
            reviews={
                project: {user: Review.from_json(r) for user, r in by_user.items()}
                for project, by_user in (document.get("reviews") or {}).items()
            },
            collections={
                name: Collection.from_json(c)
                for name, c in (document.get("collections") or {}).items()
            },
            roles=Roles(tuple(roles.get("admins", ())), tuple(roles.get("curators", ()))),
            writes_per_hour=int(limits.get("writes_per_hour", DEFAULT_WRITES_PER_HOUR)),
        )

    def into_custom_data(self, custom_data: object) -> dict[str, object]:
        """``custom_data`` with this document in it (other keys are kept as they are)."""
        merged = dict(custom_data) if isinstance(custom_data, Mapping) else {}
        merged[HUB_KEY] = {
            "reviews": {
                project: {user: review.stored() for user, review in by_user.items()}
                for project, by_user in self.reviews.items()
            },
            "collections": {name: c.as_json() for name, c in self.collections.items()},
            "roles": {"admins": list(self.roles.admins), "curators": list(self.roles.curators)},
            "limits": {"writes_per_hour": self.writes_per_hour},
        }
        return merged

    # reviews

    def review(self, project: str, user: str) -> Review | None:
        return self.reviews.get(project, {}).get(user)

    def visible_reviews(self, project: str) -> list[Review]:
        """The project's reviews that are not hidden, newest first."""
        found = [r for r in self.reviews.get(project, {}).values() if r.hidden is None]
        return sorted(found, key=lambda r: r.updated, reverse=True)

    def with_review(self, review: Review) -> HubData:
        reviews = {**self.reviews, review.project: {**self.reviews.get(review.project, {})}}
        reviews[review.project][review.user] = review
        return replace(self, reviews=reviews)

    def ratings(self, project: str) -> Ratings:
        visible = self.visible_reviews(project)
        versions = sorted({r.version for r in visible})
        return Ratings(
            project,
            Aggregate.of(r.rating for r in visible),
            {v: Aggregate.of(r.rating for r in visible if r.version == v) for v in versions},
        )

    def mean_ratings(self) -> dict[str, Aggregate]:
        """Every reviewed project's overall aggregate (what search filters and sorts by)."""
        return {project: self.ratings(project).overall for project in self.reviews}


def written_review(
    existing: Review | None, *, project: str, user: str, version: str, rating: object,
    title: object, body: object, verified: bool, now: float,
) -> Review:  # fmt: skip
    """The user's review after this write: new, or the existing one edited (its previous
    text goes to the history; moderation and votes are kept)."""
    checked = {
        "rating": checked_rating(rating),
        "title": checked_text(title, "title", maximum=TITLE_MAX),
        "body": checked_text(body, "body", maximum=BODY_MAX, minimum=0, multiline=True),
    }
    if existing is None:
        return Review(project, user, version, verified=verified, created=now, updated=now,
                      **checked)  # type: ignore[arg-type]  # fmt: skip
    earlier = Revision(existing.version, existing.rating, existing.title, existing.body,
                       existing.verified, existing.updated)  # fmt: skip
    return replace(
        existing, version=version, verified=verified, updated=now,
        history=(*existing.history, earlier), **checked,  # type: ignore[arg-type]
    )  # fmt: skip


def hidden_review(review: Review, *, by: str, reason: object, now: float) -> Review:
    return replace(
        review, hidden=Moderation(by, checked_text(reason, "reason", maximum=REASON_MAX), now)
    )


def shown_review(review: Review) -> Review:
    return replace(review, hidden=None)


def flagged_review(review: Review, *, by: str, reason: object, now: float) -> Review:
    """One flag per user; flagging again replaces the reason."""
    flag = Moderation(by, checked_text(reason, "reason", maximum=REASON_MAX), now)
    return replace(review, flags=(*(f for f in review.flags if f.by != by), flag))


def voted_review(review: Review, *, by: str, helpful: bool) -> Review:
    if by == review.user:
        raise HubInputError("you cannot vote on your own review")
    others = tuple(u for u in review.helpful if u != by)
    return replace(review, helpful=(*others, by) if helpful else others)


def checked_collection_name(value: object) -> str:
    if not isinstance(value, str) or not _COLLECTION_NAME.match(value):
        raise HubInputError(
            "a collection name is 1-63 lower-case letters, digits and dashes",
            hint="e.g. lightning-starter-kit",
        )
    return value


def checked_entries(value: object, known: Mapping[str, str]) -> tuple[CollectionEntry, ...]:
    """Entries as stored: each names a project ``known`` (canonical -> shown name) on the
    index, with an optional PEP 440 range and features."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name

    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise HubInputError("a collection needs a list of one or more entries")
    if len(value) > COLLECTION_ENTRIES_MAX:
        raise HubInputError(f"a collection holds at most {COLLECTION_ENTRIES_MAX} entries")
    entries: list[CollectionEntry] = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise HubInputError("each entry is an object with a name")
        name = str(canonicalize_name(item["name"]))
        if name not in known:
            raise HubInputError(f"{item['name']!r} is not an extension on this index")
        specifier = checked_text(item.get("specifier", "") or "", "specifier", maximum=200,
                                 minimum=0)  # fmt: skip
        try:
            SpecifierSet(specifier)
        except InvalidSpecifier:
            raise HubInputError(f"{name}: {specifier!r} is not a PEP 440 version range") from None
        features = item.get("features", ()) or ()
        if (
            not isinstance(features, Sequence)
            or isinstance(features, str)
            or not all(isinstance(f, str) and _FEATURE.match(f) for f in features)
        ):
            raise HubInputError(f"{name}: features must be a list of feature names")
        entries.append(CollectionEntry(known[name], specifier, tuple(features)))
    if len({e.name for e in entries}) != len(entries):
        raise HubInputError("an extension appears twice in the collection")
    return tuple(entries)


def published_collection(
    existing: Collection | None, *, name: str, owner: str, title: object, description: object,
    entries: tuple[CollectionEntry, ...], now: float,
) -> Collection:  # fmt: skip
    version = CollectionVersion(
        version=1 if existing is None else existing.latest.version + 1,
        title=checked_text(title, "title", maximum=COLLECTION_TITLE_MAX),
        description=checked_text(description or "", "description",
                                 maximum=COLLECTION_DESCRIPTION_MAX, minimum=0, multiline=True),
        entries=entries,
        at=now,
    )  # fmt: skip
    if existing is None:
        return Collection(name, owner, (version,))
    return replace(existing, versions=(*existing.versions, version))


class RateLimiter:
    """At most ``limit`` writes per user in any hour (kept in the primary's memory: every
    write is relayed to the primary, so one process counts them all)."""

    WINDOW = 3600.0

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._writes: dict[tuple[str, str], list[float]] = {}

    def allow(self, scope: str, user: str, limit: int, now: float) -> bool:
        with self._lock:
            key = (scope, user)
            recent = [t for t in self._writes.get(key, ()) if now - t < self.WINDOW]
            if len(recent) >= limit:
                self._writes[key] = recent
                return False
            self._writes[key] = [*recent, now]
            return True
