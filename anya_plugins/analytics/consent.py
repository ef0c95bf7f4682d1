"""Whether this user shares usage events, and the random installation id they are sent under.

The state is one small JSON file in the user's data directory (``ANYA_DATA_DIR``, else the
platform's): ``{"enabled": bool, "asked": bool, "installation_id": "<32 hex>"}``. Nothing is
shared until the user says yes, once, on a terminal (:func:`should_ask`) or with ``anya-ext
analytics on``. Sharing is off whatever the file says in CI (:data:`CI_VARIABLES`), when
``ANYA_NO_ANALYTICS`` is set, and when the command does not run on a terminal.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

STATE_FILE: Final = "analytics.json"
OPT_OUT_ENV: Final = "ANYA_NO_ANALYTICS"
CI_VARIABLES: Final = (
    "CI", "CONTINUOUS_INTEGRATION", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL",
    "TF_BUILD", "CIRCLECI", "TRAVIS", "TEAMCITY_VERSION", "BUILD_NUMBER",
)  # fmt: skip
"""Set in CI services' environments: no question is asked and nothing is sent."""
QUESTION: Final = (
    "Share anonymous usage events with the registry (install, uninstall, update: extension, "
    "version, source, platform, success; no address, user or host name)? "
    "'anya-ext analytics off' stops it. [y/N] "
)


@dataclass(frozen=True)
class Consent:
    enabled: bool = False
    asked: bool = False
    installation_id: str = ""
    """32 random hex digits; empty until sharing is first switched on."""


def analytics_dir(environ: Mapping[str, str] | None = None) -> Path:
    from anya_plugins.audit.settings import data_dir

    return data_dir(environ) / "analytics"


def load_consent(environ: Mapping[str, str] | None = None) -> Consent:
    path = analytics_dir(environ) / STATE_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Consent()
    if not isinstance(document, dict):
        return Consent()
    return Consent(
        enabled=document.get("enabled") is True,
        asked=document.get("asked") is True,
        installation_id=str(document.get("installation_id") or ""),
    )


def set_enabled(enabled: bool, environ: Mapping[str, str] | None = None) -> Consent:
    """Switch sharing on or off (on makes an installation id if there is none); off also
    drops the events not yet sent."""
    consent = load_consent(environ)
    installation_id = (consent.installation_id or _new_id()) if enabled else consent.installation_id
    updated = Consent(enabled=enabled, asked=True, installation_id=installation_id)
    _save(updated, environ)
    if not enabled:
        from anya_plugins.analytics.queue import EventQueue

        EventQueue.of(environ).clear()
    return updated


def reset_installation_id(environ: Mapping[str, str] | None = None) -> Consent:
    """A new random installation id; the events queued under the old one are dropped, so
    nothing links the two."""
    from anya_plugins.analytics.queue import EventQueue

    consent = replace(load_consent(environ), installation_id=_new_id())
    _save(consent, environ)
    EventQueue.of(environ).clear()
    return consent


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in CI_VARIABLES)


def on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def sharing(
    environ: Mapping[str, str] | None = None, *, interactive: bool | None = None
) -> Consent | None:
    """The consent to send under, when events are to be recorded now; else None."""
    env = os.environ if environ is None else environ
    if env.get(OPT_OUT_ENV) or in_ci(env):
        return None
    if not (on_terminal() if interactive is None else interactive):
        return None
    consent = load_consent(env)
    return consent if consent.enabled and consent.installation_id else None


def should_ask(environ: Mapping[str, str] | None = None) -> bool:
    """Ask once: on a terminal, outside CI, never asked before."""
    env = os.environ if environ is None else environ
    return (
        not env.get(OPT_OUT_ENV) and not in_ci(env) and on_terminal()
        and not load_consent(env).asked
    )  # fmt: skip


def _new_id() -> str:
    return uuid.uuid4().hex


def _save(consent: Consent, environ: Mapping[str, str] | None) -> None:
    from anya_plugins.config.atomic import write_atomic

    directory = analytics_dir(environ)
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(directory / STATE_FILE, json.dumps(asdict(consent), sort_keys=True) + "\n")
