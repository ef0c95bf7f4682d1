"""What ``anya-ext analytics`` shows and changes: consent, the id, the queue, sending now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from anya_plugins.analytics.consent import Consent

if TYPE_CHECKING:
    from anya_plugins.analytics.sender import SendResult
    from anya_plugins.config.layers import LayeredConfig


@dataclass(frozen=True)
class AnalyticsStatus:
    enabled: bool
    asked: bool
    installation_id: str
    sharing_now: bool
    """Whether this process would record events (on, on a terminal, not in CI)."""
    queued: int
    registry: str | None


def analytics_status(config: LayeredConfig) -> AnalyticsStatus:
    from anya_plugins.analytics.consent import load_consent, sharing
    from anya_plugins.analytics.hook import analytics_url
    from anya_plugins.analytics.queue import EventQueue

    consent = load_consent()
    return AnalyticsStatus(
        enabled=consent.enabled,
        asked=consent.asked,
        installation_id=consent.installation_id,
        sharing_now=sharing() is not None,
        queued=len(EventQueue.of()),
        registry=analytics_url(config),
    )


def switch(enabled: bool) -> Consent:
    from anya_plugins.analytics.consent import set_enabled

    return set_enabled(enabled)


def send_now(config: LayeredConfig) -> SendResult:
    """Send the queued events (when sharing is on)."""
    from anya_plugins.analytics.consent import load_consent
    from anya_plugins.analytics.hook import analytics_url
    from anya_plugins.analytics.queue import EventQueue
    from anya_plugins.analytics.sender import SendResult, send_queued

    consent, queue, registry = load_consent(), EventQueue.of(), analytics_url(config)
    if not consent.enabled or not consent.installation_id:
        return SendResult(0, len(queue), registry or "", "analytics is off")
    if registry is None:
        return SendResult(0, len(queue), "", "no registry: set analytics.url")
    return send_queued(registry, consent.installation_id, queue)
