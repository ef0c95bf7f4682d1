"""The community hub of a registry index: search with filters, ratings and reviews, curated
collections (installed as one verified transaction).

    hub = Hub.from_source(Configuration.from_user())
    for hit in hub.search("bitcoin").category("core").min_rating(4.0).sort("rating"):
        print(hit.name, hit.rating)
    hub.review("wallet", rating=5, title="Solid", body="...")   # needs a sign-in
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.api.configuration import Configuration

if TYPE_CHECKING:
    from anya_plugins.api.installer import Installer, InstallOptions, InstallReport
    from anya_plugins.sources.hub import CollectionInfo, HubClient, ReviewEntry, Reviews
    from anya_plugins.sources.search import SearchHit

SORTS = ("relevance", "rating", "downloads", "recent")


@dataclass(frozen=True)
class ReviewResult:
    """The review as the registry stored it, and whether it carries an install proof."""

    project: str
    review: ReviewEntry
    receipt_from: str | None
    """The installed file whose download receipt was sent (None: not verified)."""


@dataclass(frozen=True)
class CollectionInstall:
    collection: CollectionInfo
    specs: tuple[str, ...]
    report: InstallReport


class HubSearch:
    """A search being described; iterate it (or call :meth:`results`) to ask the registry.

    Each method returns a new search: ``hub.search("fee").category("core/ml").min_rating(4)``.
    """

    def __init__(
        self, hub: Hub, text: str = "", *, category: str | None = None,
        min_rating: float | None = None, sort: str = "relevance", limit: int | None = None,
    ) -> None:  # fmt: skip
        self._hub = hub
        self.text = text
        self.category_name = category
        self.minimum = min_rating
        self.order = sort
        self.most = limit

    def _with(self, **changes: object) -> HubSearch:
        fields: dict[str, object] = {
            "category": self.category_name, "min_rating": self.minimum,
            "sort": self.order, "limit": self.most, **changes,
        }  # fmt: skip
        return HubSearch(self._hub, self.text, **fields)  # type: ignore[arg-type]

    def category(self, category: str) -> HubSearch:
        """A category (``core/bitcoin``) or a whole source (``core``)."""
        return self._with(category=category)

    def min_rating(self, rating: float) -> HubSearch:
        """Only extensions whose mean rating (visible reviews) is at least ``rating``."""
        return self._with(min_rating=rating)

    def sort(self, order: str) -> HubSearch:
        """``relevance`` (default), ``rating``, ``downloads`` or ``recent``."""
        return self._with(sort=order)

    def limit(self, count: int) -> HubSearch:
        return self._with(limit=count)

    def results(self) -> tuple[SearchHit, ...]:
        """Ask the registry (an invalid filter is refused before any request)."""
        from anya_plugins.registry.search import SearchQuery
        from anya_plugins.sources.search import search_parameters

        SearchQuery(self.text, self.category_name, self.most, self.minimum, self.order)
        parameters = search_parameters(
            self.text, category=self.category_name, limit=self.most,
            min_rating=self.minimum, sort=self.order,
        )  # fmt: skip
        return tuple(self._hub._client().search(parameters))

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.results())


class Hub:
    """One registry index's hub, anonymous or signed in as ``user``."""

    def __init__(
        self, url: str, index: str, *, user: str | None = None, password: str | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.index = index.strip("/")
        self.user = user
        self._password = password

    @classmethod
    def from_source(
        cls, configuration: Configuration, source: str = "primary", *,
        user: str | None = None, password: str | None = None,
    ) -> Hub:  # fmt: skip
        """The hub of a configured source's index; its URL's credentials sign in unless
        ``user`` and ``password`` are given."""
        from anya_plugins.sources.hub import split_index_url

        url, index, url_user, url_password = split_index_url(configuration.source(source).urls[0])
        if user is None or password is None:
            user, password = url_user, url_password
        return cls(url, index, user=user, password=password)

    def search(self, text: str = "") -> HubSearch:
        return HubSearch(self, text)

    def reviews(self, name: str) -> Reviews:
        """Ratings (overall, per version) and visible reviews of an extension, newest first."""
        return self._client().reviews(_dist(name))

    def review(
        self, name: str, *, rating: int, title: str, body: str = "",
        version: str | None = None, python: Path | None = None, verified: bool = True,
    ) -> ReviewResult:  # fmt: skip
        """Write (or edit) the signed-in user's review. When ``verified`` and the extension is
        installed in ``python``'s environment (None: this one), the download receipt its
        install receipt carries is sent, fetched once from the registry if it has none."""
        from anya_plugins.errors import UsageError

        client = self._client()
        if not client.signed_in:
            raise UsageError(
                "writing a review needs a sign-in",
                hint="--user NAME with the password in $ANYA_PUBLISH_PASSWORD",
            )
        project = _dist(name)
        fields: dict[str, object] = {"rating": rating, "title": title, "body": body}
        receipt_from = None
        if verified:
            installed = _installed_receipt(client, self.user, project, python)
            if installed is not None:
                fields["receipt"], receipt_from = installed
        if version is not None:
            fields["version"] = version
        return ReviewResult(project, client.post_review(project, fields), receipt_from)

    def collections(self) -> tuple[CollectionInfo, ...]:
        return self._client().collections()

    def collection(self, name: str) -> CollectionInfo:
        return self._client().collection(name)

    def publish_collection(
        self, name: str, *, title: str, members: Sequence[str], description: str = ""
    ) -> CollectionInfo:
        """Publish a new version of a collection (a curator's); ``members`` as install
        specs: ``wallet``, ``wallet@>=1.2,<2``, ``wallet[tor]@~1.2``."""
        from anya_plugins.install.specs import parse_spec

        entries = []
        for text in members:
            spec = parse_spec(text)
            entries.append(
                {
                    "name": spec.name,
                    "specifier": str(spec.specifier),
                    "features": list(spec.features),
                }
            )
        return self._client().put_collection(
            name, {"title": title, "description": description, "entries": entries}
        )

    def install_collection(
        self, name: str, installer: Installer, options: InstallOptions | None = None
    ) -> CollectionInstall:
        """Install every member of the collection's latest version in one transaction:
        all of them verified and installed, or nothing changed."""
        from anya_plugins.api.installer import InstallOptions

        collection = self.collection(name)
        specs = tuple(member.spec() for member in collection.members)
        report = installer.install(specs, options or InstallOptions())
        return CollectionInstall(collection, specs, report)

    def _client(self) -> HubClient:
        from anya_plugins.sources.hub import HubClient

        return HubClient(self.url, self.index, user=self.user, password=self._password)


def _dist(name: str) -> str:
    from anya_plugins.install.specs import distribution_name

    return distribution_name(name)


def _installed_receipt(
    client: HubClient, user: str | None, project: str, python: Path | None
) -> tuple[str, str] | None:
    """(download receipt, file name) of ``project`` as installed in ``python``'s environment.
    The receipt is the one the install's own signed-in download got; fetched now (and kept in
    the install receipt) only when it has none or one issued to another user: installed
    before receipts existed, without credentials, or from the download cache. None: not
    installed there."""
    from anya_plugins.install.environment import TargetEnvironment
    from anya_plugins.install.receipts import read_receipts, write_receipt
    from anya_plugins.sources.download_receipt import receipt_user

    env = TargetEnvironment.of(python)
    installed = read_receipts(env).get(project)
    if installed is None:
        return None
    token = installed.download_receipt
    if token is None or receipt_user(token) != user:
        token = client.download_receipt(installed.url, installed.sha256)
        write_receipt(env, replace(installed, download_receipt=token))
    return token, installed.filename
