"""A source's simple pages checked against its registry's TUF metadata (python-tuf ngclient).

With ``sources.<name>.tuf_root`` set (the registry's first ``root.json``, given out of band)
every page fetched from the source must match the file list its index's TUF role signed
(``sources.tuf_targets``): the same files, hashes, Requires-Python and yank state. The
metadata is fetched from whichever mirror served the page, and verified the same way
whoever served it: a stale timestamp (freeze), an older snapshot or role than this machine
saw before (rollback; the trusted state persists in the cache), a page that does not match
the signed list (mix-and-match, an arbitrary file), a role file or target with the wrong
hash or length, or metadata larger than TUF's limits (endless data) are refused.

The updater is refreshed once per mirror per process, under a lock: the install step's
threads share one verifier. For the source's own URL it is made in a thread as soon as the
verifier is (:meth:`TufVerifier.warm_up`): importing python-tuf and refreshing the metadata
then overlap the first page's fetch instead of following it.

A refusal names what one mirror served (``mirror_specific``): the page's client then asks the
next mirror for the page and that mirror's metadata, and refuses only when none verifies
(:class:`TufRefusedEverywhere`). The trusted state (root and the versions seen) is this
machine's and shared by every mirror, so a mirror behind it is refused whichever is asked
first, and asking another cannot lower it. A refusal of this machine's own state (its trusted
metadata cannot be loaded) is the same on every mirror: it is not mirror-specific.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from anya_plugins.errors import ConfigError
from anya_plugins.sources.errors import Attempt, SourceError
from anya_plugins.sources.tuf_targets import SIMPLE_DIR, VouchedFile, parse_document, target_path

if TYPE_CHECKING:
    from tuf.ngclient.fetcher import FetcherInterface
    from tuf.ngclient.updater import Updater

    from anya_plugins.sources.http import HttpClient
    from anya_plugins.sources.simple import FileLink, ProjectPage

log = logging.getLogger(__name__)

METADATA_PATH = "+tuf/metadata/"
TARGETS_PATH = "+tuf/targets/"


TRUST_EXIT_CODE = 13
"""A TUF refusal is a trust failure, exit 13 like a signature refused (``trust.errors``)."""


class TufRefused(SourceError):
    """A page or its TUF metadata failed verification: nothing from it is used."""

    exit_code = TRUST_EXIT_CODE
    mirror_specific = True
    """Whether it refuses what one mirror served (another mirror may serve what verifies)."""


class TufStateRefused(TufRefused):
    """This machine's trusted TUF state cannot be used: no mirror can change that."""

    mirror_specific = False


class TufRefusedEverywhere(TufRefused):
    """Every mirror of a source was asked for a page; none served one that verifies."""

    def __init__(self, project: str, attempts: list[Attempt]) -> None:
        lines = "\n".join(f"  {attempt.url}: {attempt.reason}" for attempt in attempts)
        super().__init__(
            f"no mirror serves a page of {project} that the registry's TUF metadata "
            f"verifies:\n{lines}",
            hint="each mirror named served a page or metadata the registry did not sign "
            "(or none); tell the registry's operator, or remove the lying mirrors from this "
            "source's mirrors",
        )
        self.attempts = tuple(attempts)


class TufConfigError(ConfigError):
    """A source's TUF settings cannot be used."""


@dataclass(frozen=True)
class TufSource:
    """What the client needs to verify one source."""

    index: str
    """The index the source's URL names (``user/name``)."""
    trusted_root: bytes
    metadata_dir: Path
    """This machine's trusted TUF state for the source (rollback protection across runs)."""


def tuf_source(source_url: str, trusted_root: Path, cache_dir: Path) -> TufSource:
    """The TUF settings of a source at ``source_url`` (``.../<user>/<index>/+simple/``)."""
    parts = urlsplit(source_url).path.rstrip("/").split("/")
    if len(parts) < 3 or parts[-1] != SIMPLE_DIR or not parts[-2] or not parts[-3]:
        raise TufConfigError(
            f"{source_url}: TUF needs a registry index URL ending in <user>/<index>/+simple/",
            hint="remove tuf_root from this source, or point its url at a registry index",
        )
    try:
        root = trusted_root.read_bytes()
    except OSError as error:
        raise TufConfigError(
            f"cannot read the TUF root {trusted_root}: {error.strerror}",
            hint="tuf_root is the root.json the registry's operator gave you "
            "(metadata/1.root.json of 'anya-ext registry tuf init')",
        ) from None
    key = hashlib.sha256(source_url.encode()).hexdigest()[:16]
    return TufSource(f"{parts[-3]}/{parts[-2]}", root, cache_dir / "tuf" / key)


_kept_ahead: dict[TufSource, TufVerifier] = {}
"""Verifiers made ahead of the transaction (by the pages fetched ahead), each left for the
next client of its source in this process to take."""
_kept_lock = threading.Lock()


def verifier_for(source: TufSource, http: HttpClient, *, ahead: bool = False) -> TufVerifier:
    """The verifier for a new client of ``source``: the one a client made ``ahead`` left
    for it (taken once), else a new one. Made ahead, it is left to be taken: the install
    then has one verifier per source — one import and refresh of the TUF metadata, started
    before the rest of the command is imported, and one writer of this machine's TUF
    state — and the pages fetched ahead are checked by the verifier the install uses."""
    with _kept_lock:
        if ahead:
            return _kept_ahead.setdefault(source, TufVerifier(source, http))
        kept = _kept_ahead.pop(source, None)
    return kept if kept is not None else TufVerifier(source, http)


class TufVerifier:
    """Checks pages of one source against its TUF metadata (callable: the page check)."""

    def __init__(self, source: TufSource, http: HttpClient) -> None:
        self.source = source
        self.http = http
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()
        """Held while an updater loads and refreshes this machine's trusted state."""
        self._updaters: dict[str, Updater] = {}
        self._warming: dict[str, Future[Updater]] = {}

    def warm_up(self, page_url: str) -> None:
        """Start making the updater of the origin that serves ``page_url`` (python-tuf
        imported, the metadata refreshed) in a thread; the first check of a page from there
        waits for it, and raises what it raised. A process that checks no page from there
        does not wait for it."""
        try:
            base = self._base(page_url if page_url.endswith("/") else f"{page_url}/")
        except TufRefused:
            return  # not a page of this index: checking one says so
        with self._lock:
            if base in self._updaters or base in self._warming:
                return
            warming: Future[Updater] = Future()
            self._warming[base] = warming

        def make() -> None:
            try:
                warming.set_result(self._new_updater(base))
            except BaseException as error:  # raised where the updater is wanted
                warming.set_exception(error)

        threading.Thread(target=make, name="anya-tuf-warm-up", daemon=True).start()

    def __call__(self, page: ProjectPage) -> ProjectPage:
        return self.check(page)

    def check(self, page: ProjectPage) -> ProjectPage:
        """``page`` as TUF vouches for it; TufRefused unless it lists exactly the signed files.

        The returned page gives each wheel the core metadata hash TUF signed, or none (the
        resolver then reads the verified wheel): the resolver reads nothing unvouched. The
        metadata is refreshed once per process; a page that does not match it is compared
        once more with metadata refreshed now (the registry may have changed since)."""
        vouched = self.vouched_files(page.name, page.used_url)
        try:
            _compare(page, vouched, self.source.index)
        except TufRefused:
            with self._lock:
                self._updaters.pop(self._base(page.used_url), None)
            vouched = self.vouched_files(page.name, page.used_url)
            _compare(page, vouched, self.source.index)
        return _with_vouched_metadata(page, vouched)

    def vouched_files(self, project: str, page_url: str) -> dict[str, VouchedFile]:
        """The files the index's TUF role lists for ``project``, fetched from the origin that
        served ``page_url`` and verified."""
        from tuf.api import exceptions

        base = self._base(page_url)
        path = target_path(self.source.index, project)
        try:
            # The trusted metadata is shared: refreshed and walked under the lock. Each file
            # list is fetched and checked against it outside, as the install's threads ask.
            with self._lock:
                updater = self._updater(base)
                info = updater.get_targetinfo(path)
            if info is None:
                raise TufRefused(
                    f"{page_url}: the TUF metadata of {self.source.index} lists no "
                    f"{project}: the page is not one the registry signed",
                    hint="a mirror added a project the registry does not have, or the "
                    "index is not under TUF (ask its operator)",
                )
            cached = updater.find_cached_target(info)
            data = Path(cached or updater.download_target(info)).read_bytes()
            return parse_document(data)
        except (exceptions.RepositoryError, exceptions.DownloadError) as error:
            raise TufRefused(
                f"{base}: TUF metadata for {self.source.index} refused "
                f"({type(error).__name__}: {error})",
                hint=_hint(error),
            ) from None
        except (ValueError, KeyError) as error:
            raise TufRefused(
                f"{base}: the signed file list of {project} is malformed: {error}"
            ) from None

    def _base(self, page_url: str) -> str:
        marker = f"/{self.source.index}/{SIMPLE_DIR}/"
        url = page_url.split("#", 1)[0]
        if marker not in url:
            raise TufRefused(f"{page_url} is not a page of {self.source.index}")
        return url[: url.index(marker) + 1]

    def _updater(self, base: str) -> Updater:
        """The refreshed updater of ``base`` (lock held)."""
        updater = self._updaters.get(base)
        if updater is not None:
            return updater
        warming = self._warming.pop(base, None)
        updater = warming.result() if warming is not None else self._new_updater(base)
        self._updaters[base] = updater
        return updater

    def _new_updater(self, base: str) -> Updater:
        with self._state_lock:
            return self._load_and_refresh(base)

    def _load_and_refresh(self, base: str) -> Updater:
        from tuf.api import exceptions
        from tuf.ngclient.updater import Updater

        directory = self.source.metadata_dir
        (directory / "targets").mkdir(parents=True, exist_ok=True)
        cached_root = directory / "root.json"
        try:
            updater = Updater(
                str(directory),
                f"{base}{METADATA_PATH}",
                str(directory / "targets"),
                f"{base}{TARGETS_PATH}",
                fetcher=_fetcher(self.http),
                # The root this machine already verified (rotations followed) if any, else
                # the configured one: a mirror cannot walk a client back to an older root.
                bootstrap=None if cached_root.exists() else self.source.trusted_root,
            )
        except (exceptions.RepositoryError, ValueError, OSError) as error:
            raise TufStateRefused(
                f"the trusted TUF root of {self.source.index} on this machine cannot be "
                f"loaded ({type(error).__name__}: {error})",
                hint=f"check tuf_root; to start over from it, delete {directory}",
            ) from None
        updater.refresh()
        log.info("TUF metadata of %s verified from %s", self.source.index, base)
        return updater


def _fetcher(http: HttpClient) -> FetcherInterface:
    """An ngclient fetcher over our HTTP client (proxies, TLS trust, credentials)."""
    from tuf.api.exceptions import DownloadHTTPError
    from tuf.ngclient.fetcher import FetcherInterface

    class Fetcher(FetcherInterface):
        def _fetch(self, url: str) -> Iterator[bytes]:
            with http.get(url) as response:
                if response.status != 200:
                    raise DownloadHTTPError(f"{url}: HTTP {response.status}", response.status)
                yield from response.iter_bytes()

    return Fetcher()


def _compare(page: ProjectPage, vouched: dict[str, VouchedFile], index: str) -> None:
    listed = {link.filename: link for link in page.files}
    unvouched = sorted(set(listed) - set(vouched))
    hidden = sorted(set(vouched) - set(listed))
    differing = sorted(
        name for name in set(listed) & set(vouched) if _differs(listed[name], vouched[name])
    )
    problems = []
    if unvouched:
        problems.append(f"lists files TUF does not vouch for: {', '.join(unvouched)}")
    if differing:
        problems.append(
            f"differs from the signed hash, Requires-Python or yank of {', '.join(differing)}"
        )
    if hidden:
        problems.append(f"hides signed files: {', '.join(hidden)}")
    if problems:
        raise TufRefused(
            f"{page.used_url}: the page of {page.name} does not match the file list "
            f"{index}'s TUF metadata signed; it {'; '.join(problems)}",
            hint="a mirror or edge serving altered or mixed pages; try another mirror. If the "
            "registry changed in between, installing again fetches both anew",
        )


def _with_vouched_metadata(page: ProjectPage, vouched: dict[str, VouchedFile]) -> ProjectPage:
    files = []
    for link in page.files:
        signed = vouched[link.filename].core_metadata_sha256
        core = {"sha256": signed} if signed and link.core_metadata else False
        files.append(dataclasses.replace(link, core_metadata=core))
    return dataclasses.replace(page, files=tuple(files))


def _differs(link: FileLink, file: VouchedFile) -> bool:
    return (
        link.sha256 != file.sha256
        or (link.requires_python or None) != file.requires_python
        or link.yanked != file.yanked
    )


def _hint(error: Exception) -> str:
    from tuf.api import exceptions

    if isinstance(error, exceptions.ExpiredMetadataError):
        return "the mirror serves expired metadata (a frozen or stale mirror); try another"
    if isinstance(error, exceptions.BadVersionNumberError):
        return "older metadata than this machine verified before (a rollback); try another mirror"
    if isinstance(error, exceptions.DownloadLengthMismatchError):
        return "the mirror sent more data than the signed metadata allows"
    if isinstance(error, exceptions.DownloadHTTPError):
        return "the mirror does not serve this registry's TUF metadata"
    return "the mirror serves metadata the registry did not sign; try another mirror"
