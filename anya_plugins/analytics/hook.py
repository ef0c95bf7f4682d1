"""What an install, update, sync or uninstall tells analytics and the metrics textfile.

Called by :mod:`anya_plugins.install.service` around each transaction. Nothing here may
fail an install: every error is logged as a warning and dropped. With sharing off (the
default; :func:`~.consent.sharing`) no event is made, queued or sent; the textfile is written
whenever ``[metrics] textfile`` is set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from anya_plugins.analytics.events import EventKind, UsageEvent, utc_day
from anya_plugins.errors import AnyaError

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.install.transaction import InstallResult

log = logging.getLogger(__name__)
SECTION: Final = "analytics"
URL_KEY: Final = "url"
SEND_SECONDS: Final = 2.0
"""How long the end of an install may wait for the registry; unsent events stay queued."""


@dataclass
class UsageReport:
    """Filled in by the transaction it wraps: what changed."""

    result: InstallResult | None = None
    failed: list[str] = field(default_factory=list)

    def succeeded(self, result: InstallResult) -> None:
        self.result = result


@contextmanager
def usage_reported(
    config: LayeredConfig, action: str, requested: Sequence[str], source: str
) -> Iterator[UsageReport]:
    """Time the transaction in the ``with`` block; report its changes, or its failure for
    each requested extension."""
    report = UsageReport()
    started = time.monotonic()
    try:
        yield report
    except Exception:
        _finish(
            config, action, source, _failed(action, requested), time.monotonic() - started, False
        )
        raise
    result = report.result
    if result is not None and not result.dry_run:
        _finish(config, action, source, _changed(action, result), time.monotonic() - started, True)


def report_uninstall(config: LayeredConfig, versions: Mapping[str, str]) -> None:
    """Extensions removed (distribution name -> the version that was installed)."""
    events: list[_Outcome] = [("uninstall", name, v, True) for name, v in versions.items()]
    _finish(config, "uninstall", "", events, None, True)


_Outcome = tuple[EventKind, str, str, bool]


def _changed(action: str, result: InstallResult) -> list[_Outcome]:
    kinds: list[_Outcome] = []
    for change in result.changes:
        kind: EventKind = "update" if action == "update" or change.old_version else "install"
        kinds.append((kind, change.name, change.new_version, True))
    return kinds


def _failed(action: str, requested: Sequence[str]) -> list[_Outcome]:
    from anya_plugins.install.specs import distribution_name, parse_spec

    kind: EventKind = "update" if action == "update" else "install"
    outcomes: list[_Outcome] = []
    for text in requested:
        try:
            outcomes.append((kind, distribution_name(parse_spec(text).name), "", False))
        except AnyaError:  # an unparsable spec has nothing to report
            continue
    return outcomes


def _finish(
    config: LayeredConfig,
    action: str,
    source: str,
    outcomes: Sequence[_Outcome],
    seconds: float | None,
    ok: bool,
) -> None:
    try:
        if seconds is not None:
            _write_timing(config, action, ok, seconds)
    except Exception as error:  # never fail an install for its metrics
        log.warning("metrics textfile not written: %s", error)
    try:
        _share(config, source, outcomes)
    except Exception as error:  # nor for analytics
        log.warning("usage events not recorded: %s", error)


def _write_timing(config: LayeredConfig, action: str, ok: bool, seconds: float) -> None:
    value = config.section("metrics").get("textfile")
    if value is None:
        return
    from anya_plugins.analytics.textfile import record_operation, textfile_path

    record_operation(textfile_path(value), action, ok, seconds)


def _share(config: LayeredConfig, source: str, outcomes: Sequence[_Outcome]) -> None:
    from anya_plugins.analytics.consent import sharing

    consent = sharing()
    if consent is None or not outcomes:
        return
    from packaging.utils import canonicalize_name

    from anya_plugins.analytics.queue import EventQueue
    from anya_plugins.analytics.sender import send_queued
    from anya_plugins.metadata.host_platform import Platform
    from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX

    day, platform = utc_day(), Platform.detect().name
    events = [
        UsageEvent(day, kind, canonicalize_name(name), version, source, platform, success)
        for kind, name, version, success in outcomes
        if name.startswith(DIST_NAME_PREFIX)
    ]
    if not events:
        return
    queue = EventQueue.of()
    queue.add(events)
    registry = analytics_url(config, source or "primary")
    if registry is not None:
        sent = send_queued(registry, consent.installation_id, queue, timeout=SEND_SECONDS)
        if sent.error:
            log.info("usage events kept for later (%s): %s", sent.url, sent.error)


def analytics_url(config: LayeredConfig, source: str = "primary") -> str | None:
    """Where events go: ``analytics.url``, else the registry of the source."""
    configured = config.section(SECTION).get(URL_KEY)
    if isinstance(configured, str) and configured:
        return configured
    from anya_plugins.analytics.sender import registry_root
    from anya_plugins.sources.settings import load_sources

    return registry_root(load_sources(config).source(source).url)
