"""The registry client: search an index, read what it says about one extension, publish."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anya_plugins.api.configuration import Configuration
from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from anya_plugins.publish.publishing import PublishResult
    from anya_plugins.registry.devpi import Credentials
    from anya_plugins.sources.search import RemoteExtension, SearchHit
    from anya_plugins.sources.simple import SimpleIndex


class Signing(Frozen):
    """How ``publish`` signs each file (a PEP 740 attestation, uploaded beside it).

    With no ``identity_token``, the CI's ambient identity is used (GitHub Actions, GitLab...);
    ``interactive`` signs in through the browser; ``trust_config`` names another Sigstore
    instance (a local one for offline testing)."""

    identity_token: str | None
    trust_config: Path | None
    interactive: bool

    def __init__(
        self,
        identity_token: str | None = None,
        trust_config: Path | None = None,
        interactive: bool = False,
    ) -> None:
        self._init(identity_token, trust_config, interactive)


class RegistryClient:
    """One configured source's index: ``primary``, ``community`` or ``enterprise.<org>``."""

    def __init__(self, configuration: Configuration, *, source: str = "primary") -> None:
        self.configuration = configuration
        self.source = source

    def search(
        self, text: str = "", *, category: str | None = None, limit: int | None = None,
        min_rating: float | None = None, sort: str = "relevance",
    ) -> tuple[SearchHit, ...]:  # fmt: skip
        """Extensions whose name, summary, keywords or category match every term of ``text``,
        best first; ``category`` is one (``core/bitcoin``) or a whole source (``core``);
        ``min_rating`` keeps those whose mean hub rating is at least that; ``sort``:
        ``relevance``, ``rating``, ``downloads`` or ``recent``. An unknown category or sort
        is refused before any request."""
        from anya_plugins.registry.search_query import SearchQuery
        from anya_plugins.sources.search import search, search_index

        # raises InvalidQuery, naming the known categories and sorts
        SearchQuery(text, category, limit, min_rating, sort)
        return tuple(
            search(
                search_index(self.configuration.sources_settings(), self.source),
                text,
                category=category,
                limit=limit,
                min_rating=min_rating,
                sort=sort,
            )
        )

    def info(self, name: str) -> RemoteExtension:
        """Versions (yanked ones named), category, features, platforms and host API of the
        latest release, read from the index without installing anything."""
        from anya_plugins.install.specs import distribution_name
        from anya_plugins.sources.search import describe_remote

        return describe_remote(self._index(), distribution_name(name), self.source)

    @staticmethod
    def publish(
        files: Sequence[Path],
        *,
        registry_url: str,
        index: str,
        credentials: Credentials,
        signing: Signing | None = Signing(),
    ) -> PublishResult:
        """Build each project directory among ``files`` (wheel files are taken as they are),
        check every file against the extension contract, refuse versions the index has, sign
        (unless ``signing`` is None) and upload with twine."""
        from anya_plugins.publish.publishing import collect, publish

        sign = None
        if signing is not None:
            from anya_plugins.trust.signing import attest_files

            def sign(paths: Sequence[Path]) -> Sequence[Path]:
                return attest_files(
                    paths,
                    identity_token=signing.identity_token,
                    trust_config=signing.trust_config,
                    interactive=signing.interactive,
                )

        return publish(
            collect(files),
            registry_url=registry_url,
            index=index,
            credentials=credentials,
            sign=sign,
        )

    def _index(self) -> SimpleIndex:
        from anya_plugins.sources.simple import SimpleIndex

        return SimpleIndex.from_settings(self.configuration.sources_settings(), self.source)
