"""The trust policy: who may sign which extensions from which source, as typed, frozen settings.

It is read from the ``[trust]`` section of the configuration::

    [trust]
    trusted_root = "/path/trusted_root.json"  # optional; default: Sigstore's public-good root
    offline = false                           # true: never refresh the root through TUF (air gap)
    max_root_age_days = 180                   # offline, refuse a root older than this
    require_signatures = true                 # default true: refuse unsigned files ...
    allow_unsigned = false                    # ... unless true here AND --allow-unsigned given
    on_publisher_change = "refuse"            # or "warn": a signer other than the pinned one
    dependencies = "provenance-if-served"     # or "sha256" or "signed": see below

    [[trust.publishers]]                      # who may sign which extension names
    identity = "https://github.com/anya-org/lightning/.github/workflows/release.yml@refs/tags/*"
    issuer = "https://token.actions.githubusercontent.com"
    names = ["anya-ext-lightning*"]           # globs over distribution names
    sources = ["primary"]                     # optional (default: every source)

    [trust.enterprise.acme]                   # overrides for the source enterprise.acme
    require_signatures = true                 # optional; default: the top-level value
    allow_unsigned = false                    # optional; default: the top-level value
    allowed_publishers = [                    # optional; when set, ONLY these may sign for acme
      { identity = "release@acme.example", issuer = "https://idp.acme.example", names = ["*"] },
    ]

Matching:

- ``identity`` is the certificate's subject alternative name (an e-mail address or a URI such
  as a CI workflow's). It is compared exactly, or as a case-sensitive :mod:`fnmatch` glob when
  it holds ``*``, ``?`` or ``[``. A ``*`` also matches ``/``: anchor globs as far as you can
  (``...release.yml@refs/tags/*``, not ``https://github.com/anya-org/*``).
- ``issuer`` is the OIDC issuer recorded in the certificate, compared exactly. It is required:
  an identity means nothing without the issuer that vouched for it.
- ``names`` are globs over distribution names, both normalised as in PEP 503 (``Anya_Ext.X``
  and ``anya-ext-x`` are the same name).
- ``sources`` are globs over source names: ``primary``, ``community``, ``enterprise.<org>``.
- For a source ``enterprise.<org>`` whose table sets ``allowed_publishers``, those replace the
  top-level publishers: only the organisation's own signers are trusted for its index.

An unsigned file is accepted only when its source does not require signatures, or when the
caller passes ``allow_unsigned`` and the source's policy sets ``allow_unsigned = true``. A
signature that is present is always checked, whatever those settings say.

``offline = true`` verifies against the public-good root sigstore-python keeps for offline use
(as its TUF client last fetched it, or as sigstore-python ships it), or against
``trusted_root`` when set, and never touches the network. Such a root sees no key rotation or
revocation, so one older than ``max_root_age_days`` is refused; :mod:`anya_plugins.trust.roots`
says how the age is measured.

The first verified install of an extension pins its signer (identity and issuer, trust on
first use, as SSH does for host keys; :mod:`anya_plugins.trust.pins`). A later file of it
signed by anyone else — even someone the publishers above allow — is refused, or with
``on_publisher_change = "warn"`` installed with a warning (the pin stays until changed with
``anya-ext trust repin``).

Third-party dependencies (every distribution that is not an ``anya-ext-*`` extension,
``anya-plugins`` included) follow ``dependencies``; the vulnerability gate and the index's
sha256 check every file whatever it says:

- ``"provenance-if-served"`` (default): sha256 from the index; when the index serves a PEP 740
  provenance for the file it is verified (by a ``[[trust.publishers]]`` entry whose names
  match, or, when none does, by whoever signed it) and its signer pinned like an extension's;
  an invalid provenance is refused.
- ``"sha256"``: the index's sha256 only; a served provenance is not looked at.
- ``"signed"``: as strict as an extension that requires signatures: a signature by a
  ``[[trust.publishers]]`` entry whose names match, or the file is refused.

The install summary shows, per dependency, which of these was checked.

Every key is checked when the policy is read; an unknown or mistyped key is an error that
names it, since a misspelt ``require_signatures`` would otherwise weaken the policy silently.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from packaging.utils import canonicalize_name

from anya_plugins.config.reader import Origins, SectionReader
from anya_plugins.trust.errors import TrustPolicyError

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig

ENTERPRISE_PREFIX = "enterprise."
_GLOB_CHARACTERS = frozenset("*?[")
_TOP_KEYS = (
    "trusted_root",
    "offline",
    "max_root_age_days",
    "require_signatures",
    "allow_unsigned",
    "publishers",
    "enterprise",
    "on_publisher_change",
    "dependencies",
)
DependencyTrust = Literal["provenance-if-served", "sha256", "signed"]
DEPENDENCY_TRUST_VALUES: tuple[DependencyTrust, ...] = ("provenance-if-served", "sha256", "signed")
DEFAULT_MAX_ROOT_AGE_DAYS = 180
_PUBLISHER_KEYS = ("identity", "issuer", "names", "sources")
_ENTERPRISE_KEYS = ("require_signatures", "allow_unsigned", "allowed_publishers")

_T = TypeVar("_T")

"""Where a dotted key's value came from (``LayeredConfig.origin``), for error messages."""


@dataclass(frozen=True)
class Publisher:
    """One signer the policy trusts, and for which extensions and sources."""

    identity: str
    """The certificate identity (e-mail or URI SAN), exact or a glob."""
    issuer: str
    """The OIDC issuer that must have vouched for the identity, exact."""
    names: tuple[str, ...]
    """Globs over distribution names this publisher may sign."""
    sources: tuple[str, ...] | None = None
    """Globs over source names; None for every source."""

    @property
    def identity_is_glob(self) -> bool:
        return not _GLOB_CHARACTERS.isdisjoint(self.identity)

    def may_sign(self, dist_name: str) -> bool:
        """Whether one of :attr:`names` matches ``dist_name`` (both PEP 503-normalised)."""
        name = canonicalize_name(dist_name)
        return any(fnmatch.fnmatchcase(name, _normalised_glob(glob)) for glob in self.names)

    def serves(self, source: str) -> bool:
        """Whether this publisher applies to ``source``."""
        return self.sources is None or any(
            fnmatch.fnmatchcase(source, glob) for glob in self.sources
        )

    def matches(self, identity: str, issuer: str | None) -> bool:
        """Whether a certificate naming ``identity`` from ``issuer`` is this publisher."""
        return issuer == self.issuer and self.matches_identity(identity)

    def matches_identity(self, identity: str) -> bool:
        """Whether ``identity`` is :attr:`identity` or matches it as a glob."""
        return fnmatch.fnmatchcase(identity, self.identity)

    def __str__(self) -> str:
        return f"{self.identity} (issuer {self.issuer})"


@dataclass(frozen=True)
class EnterpriseRules:
    """The overrides of one ``[trust.enterprise.<org>]`` table; None keeps the top-level value."""

    org: str
    require_signatures: bool | None = None
    allow_unsigned: bool | None = None
    allowed_publishers: tuple[Publisher, ...] | None = None

    @property
    def source(self) -> str:
        return f"{ENTERPRISE_PREFIX}{self.org}"


@dataclass(frozen=True)
class SourceRules:
    """What the policy says about one source, enterprise overrides applied."""

    source: str
    require_signatures: bool
    allow_unsigned: bool
    publishers: tuple[Publisher, ...]


@dataclass(frozen=True)
class TrustPolicy:
    """The whole ``[trust]`` section. ``TrustPolicy()`` is the default: signatures required,
    no publisher trusted yet, Sigstore's public-good root."""

    trusted_root: Path | None = None
    """A Sigstore trusted root JSON file; None for the public-good (production) instance."""
    require_signatures: bool = True
    allow_unsigned: bool = False
    publishers: tuple[Publisher, ...] = ()
    enterprise: tuple[EnterpriseRules, ...] = ()
    offline: bool = False
    """Never refresh the root through TUF: verify against the root kept for offline use."""
    max_root_age_days: int = DEFAULT_MAX_ROOT_AGE_DAYS
    """With :attr:`offline`, a trusted root older than this is refused."""
    on_publisher_change: Literal["refuse", "warn"] = "refuse"
    """What a file signed by someone other than its extension's pinned signer gets."""
    dependencies: DependencyTrust = "provenance-if-served"
    """What is required of a third-party dependency (a distribution that is no extension)."""

    def rules_for(self, source: str) -> SourceRules:
        """The settings that apply to files from ``source``."""
        top_level = tuple(publisher for publisher in self.publishers if publisher.serves(source))
        override = next((rules for rules in self.enterprise if rules.source == source), None)
        if override is None:
            return SourceRules(source, self.require_signatures, self.allow_unsigned, top_level)
        return SourceRules(
            source=source,
            require_signatures=_either(override.require_signatures, self.require_signatures),
            allow_unsigned=_either(override.allow_unsigned, self.allow_unsigned),
            publishers=_either(override.allowed_publishers, top_level),
        )

    def publishers_for(self, dist_name: str, source: str) -> tuple[Publisher, ...]:
        """The publishers that may sign ``dist_name`` when it comes from ``source``."""
        return tuple(
            publisher
            for publisher in self.rules_for(source).publishers
            if publisher.may_sign(dist_name)
        )


def load_trust_policy(config: LayeredConfig) -> TrustPolicy:
    """The ``[trust]`` section of a layered configuration; errors name where a value came from.

    A relative ``trusted_root`` is read relative to the configuration file's directory.
    """
    return parse_trust_policy(
        config.section("trust"), base_dir=config.path.parent, origins=config.origin
    )


def parse_trust_policy(
    section: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    origins: Origins | None = None,
) -> TrustPolicy:
    """A typed policy from the plain ``[trust]`` dict; unset keys take their defaults.

    ``base_dir`` anchors a relative ``trusted_root`` (default: the working directory).
    """
    reader = _Reader(origins)
    reader.known_keys("", section, _TOP_KEYS)
    trusted_root = None
    if "trusted_root" in section:
        trusted_root = Path(reader.text("trusted_root", section["trusted_root"])).expanduser()
        if base_dir is not None and not trusted_root.is_absolute():
            trusted_root = base_dir / trusted_root
    return TrustPolicy(
        trusted_root=trusted_root,
        require_signatures=reader.flag(
            "require_signatures", section.get("require_signatures", True)
        ),
        allow_unsigned=reader.flag("allow_unsigned", section.get("allow_unsigned", False)),
        publishers=_publishers(reader, "publishers", section.get("publishers", []), sources=True),
        enterprise=tuple(
            _enterprise(reader, org, table)
            for org, table in sorted(
                reader.table("enterprise", section.get("enterprise", {})).items()
            )
        ),
        offline=reader.flag("offline", section.get("offline", False)),
        max_root_age_days=reader.days(
            "max_root_age_days", section.get("max_root_age_days", DEFAULT_MAX_ROOT_AGE_DAYS)
        ),
        on_publisher_change=reader.publisher_change(section.get("on_publisher_change", "refuse")),
        dependencies=reader.dependency_trust(section.get("dependencies", "provenance-if-served")),
    )


def _enterprise(reader: _Reader, org: str, value: Any) -> EnterpriseRules:
    key = f"enterprise.{org}"
    table = reader.table(key, value)
    reader.known_keys(key, table, _ENTERPRISE_KEYS)
    return EnterpriseRules(
        org=org,
        require_signatures=(
            reader.flag(f"{key}.require_signatures", table["require_signatures"])
            if "require_signatures" in table
            else None
        ),
        allow_unsigned=(
            reader.flag(f"{key}.allow_unsigned", table["allow_unsigned"])
            if "allow_unsigned" in table
            else None
        ),
        allowed_publishers=(
            _publishers(
                reader, f"{key}.allowed_publishers", table["allowed_publishers"], sources=False
            )
            if "allowed_publishers" in table
            else None
        ),
    )


def _publishers(reader: _Reader, key: str, value: Any, *, sources: bool) -> tuple[Publisher, ...]:
    if not isinstance(value, list):
        raise reader.error(
            key,
            f"must be a list of publisher tables, not {value!r}",
            hint="write each as [[trust.publishers]] with identity, issuer and names",
        )
    return tuple(
        _publisher(reader, f"{key}[{index}]", item, sources=sources)
        for index, item in enumerate(value)
    )


def _publisher(reader: _Reader, key: str, value: Any, *, sources: bool) -> Publisher:
    table = reader.table(key, value)
    known = _PUBLISHER_KEYS if sources else tuple(k for k in _PUBLISHER_KEYS if k != "sources")
    reader.known_keys(key, table, known)
    for required in ("identity", "issuer", "names"):
        if required not in table:
            raise reader.error(
                f"{key}.{required}",
                "is missing",
                hint="a publisher needs identity, issuer and names",
            )
    return Publisher(
        identity=reader.text(f"{key}.identity", table["identity"]),
        issuer=reader.text(f"{key}.issuer", table["issuer"]),
        names=reader.globs(f"{key}.names", table["names"]),
        sources=reader.globs(f"{key}.sources", table["sources"]) if "sources" in table else None,
    )


def _either(override: _T | None, default: _T) -> _T:
    return default if override is None else override


def _normalised_glob(glob: str) -> str:
    """A name glob spelled as PEP 503 spells names (``Anya_Ext*`` -> ``anya-ext*``)."""
    return str(canonicalize_name(glob))


class _Reader(SectionReader):
    """The shared section checks, plus name globs."""

    def __init__(self, origins: Origins | None) -> None:
        super().__init__("trust", origins, TrustPolicyError)

    def days(self, key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(key, f"must be a whole number of days, at least 1, not {value!r}")
        return value

    def publisher_change(self, value: Any) -> Literal["refuse", "warn"]:
        if value == "refuse" or value == "warn":
            return value  # type: ignore[no-any-return]
        raise self.error(
            "on_publisher_change", f'must be "refuse" or "warn", not {value!r}', hint='e.g. "warn"'
        )

    def dependency_trust(self, value: Any) -> DependencyTrust:
        for allowed in DEPENDENCY_TRUST_VALUES:
            if value == allowed:
                return allowed
        raise self.error(
            "dependencies",
            f"must be one of {', '.join(map(repr, DEPENDENCY_TRUST_VALUES))}, not {value!r}",
            hint='e.g. "signed"',
        )

    def globs(self, key: str, value: Any) -> tuple[str, ...]:
        value = self.items(key, value)
        if not value:
            raise self.error(
                key, f"must be a non-empty list of names or globs, not {value!r}", hint='e.g. ["*"]'
            )
        return tuple(self.text(f"{key}[{index}]", item) for index, item in enumerate(value))
