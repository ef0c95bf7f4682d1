"""The organisation's private registry as the source ``enterprise.<org>``, from the
``registry.private.*`` keys an enterprise policy sets (:mod:`anya_plugins.enterprise.policy`).

``registry.private.url`` replaces ``sources.enterprise.<org>.url`` for the organisation
``registry.private.org`` names (its mirrors and TUF root, when the user's file sets them, are
kept). The credentials come from ``$ANYA_REGISTRY_USER``/``$ANYA_REGISTRY_PASSWORD`` or the
system keyring (:func:`private_credentials`) and live only in this process's memory; none
found, the HTTP client's own keyring and netrc look-up still applies. TLS is always verified
(the system store plus ``sources.ca_bundle``): ``registry.private.verify-ssl = false`` on an
https URL is refused rather than obeyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from anya_plugins.errors import ConfigError
from anya_plugins.sources.credentials import BasicAuth, Credentials, redact

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Final

    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.sources.settings import SourceSettings, SourcesSettings

URL_KEY: Final = "registry.private.url"
ORG_KEY: Final = "registry.private.org"
VERIFY_SSL_KEY: Final = "registry.private.verify-ssl"
USER_ENV: Final = "ANYA_REGISTRY_USER"
PASSWORD_ENV: Final = "ANYA_REGISTRY_PASSWORD"


class PrivateRegistryError(ConfigError):
    """A ``registry.private.*`` key cannot be used as it is."""

    def __init__(self, key: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{key}: {redact(problem)}", hint=hint)


def private_org(config: LayeredConfig) -> str | None:
    """The organisation whose private registry the configuration names (``registry.private.org``,
    the policy's organisation as a slug): the source ``enterprise.<org>``; None without one."""
    url_entry, org_entry = config.get(URL_KEY), config.get(ORG_KEY)
    if url_entry is None or org_entry is None:
        return None
    return str(org_entry.value)


def with_private_registry(
    settings: SourcesSettings, config: LayeredConfig, environ: Mapping[str, str]
) -> SourcesSettings:
    """``settings`` with ``enterprise.<registry.private.org>`` at ``registry.private.url``;
    unchanged when the configuration names no private registry."""
    org = private_org(config)
    url_entry = config.get(URL_KEY)
    if org is None or url_entry is None:
        return settings
    url = str(url_entry.value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrivateRegistryError(
            URL_KEY, f"{url!r} (from {url_entry.origin}) is not an http(s) URL"
        )
    verify = config.get(VERIFY_SSL_KEY)
    if parts.scheme == "https" and verify is not None and verify.value is not True:
        raise PrivateRegistryError(
            VERIFY_SSL_KEY,
            f"is {verify.value!r} (from {verify.origin}); Anya never turns TLS verification off",
            hint="give the registry's CA certificate with sources.ca_bundle (or "
            "REQUESTS_CA_BUNDLE) and set verify-ssl to true",
        )
    name = f"enterprise.{org}"
    private = _source(settings, name, _with_credentials(url.rstrip("/") + "/", environ))
    others = tuple(source for source in settings.enterprise if source.name != name)
    return settings.replace(enterprise=tuple(sorted((*others, private), key=lambda s: s.name)))


def _source(settings: SourcesSettings, name: str, url: str) -> SourceSettings:
    from anya_plugins.sources.settings import SourceSettings

    configured = next((s for s in settings.enterprise if s.name == name), None)
    if configured is None:
        return SourceSettings(name=name, url=url)
    return configured.replace(url=url)


def private_credentials(url: str, user: str | None, environ: Mapping[str, str]) -> BasicAuth | None:
    """The user and password for the registry at ``url``: ``$ANYA_REGISTRY_USER`` and
    ``$ANYA_REGISTRY_PASSWORD`` first, else the keyring's entry for its host (``host:port``,
    then ``host``; for ``user`` or ``$ANYA_REGISTRY_USER`` when given)."""
    name = user or environ.get(USER_ENV) or None
    password = environ.get(PASSWORD_ENV)
    if name and password:
        return BasicAuth(name, password)
    known = Credentials()
    if name:
        parts = urlsplit(url)
        known.take(parts._replace(netloc=f"{name}@{parts.netloc}").geturl())
    found = known.from_keyring(url)
    if found is not None and found.password and (not name or found.username == name):
        return found
    return None


def _with_credentials(url: str, environ: Mapping[str, str]) -> str:
    """``url`` with the registry user's ``user:password@`` (kept in memory only)."""
    found = private_credentials(url, None, environ)
    if found is None:
        return url
    parts = urlsplit(url)
    userinfo = f"{quote(found.username, safe='')}:{quote(found.password, safe='')}"
    return parts._replace(netloc=f"{userinfo}@{parts.netloc}").geturl()
