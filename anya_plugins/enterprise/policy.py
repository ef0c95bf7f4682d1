"""The organisation's policy file, ``enterprise-registry.yml`` (or ``.toml``): which private
registry, how to sign in to it, what security and compliance it demands.

::

    organization: Acme Corp
    registry_url: https://registry.acme.example/acme/private/+simple/
    auth_method: ldap            # basic | ldap | token (default basic)
    verify_ssl: true             # default true
    security:
      require_signatures: true
      allowed_publishers:        # identities, or tables {identity, issuer, names}
        - release@acme.example
        - {identity: "https://ci.acme.example/release.yml@refs/tags/*",
           issuer: https://ci.acme.example, names: "acme-*"}
      issuer: https://idp.acme.example   # the OIDC issuer that vouches for plain identities
      audit_logging: true
      vulnerability_scanning: true
    compliance:
      standards: [SOC2, ISO27001]
      reporting:                 # or just: monthly
        frequency: monthly
        recipients: [compliance@acme.example]
        smtp: smtp.acme.example:587
        sender: anya@acme.example
    support:
      contact: platform@acme.example
    roles:                       # added to (or replacing) developer, admin, security
      partner: {permissions: [read, install], scopes: [core/bitcoin/*], groups: [globex]}

The whole document may sit under an ``enterprise:`` key. Every field is checked and every
problem reported at once, each with its line. Credentials never belong in it: a password in
``registry_url`` or any key named like a secret is refused (they come from the environment or
the keyring, :mod:`anya_plugins.enterprise.credentials`).

Precedence. The policy's registry keys (``registry.private.*``) sit above the user's file and
below the environment and ``--config`` (to debug one machine). Its security demands are
*enforced*: above every layer, so neither the user's file nor the environment nor ``--config``
loosens them; and a policy only ever tightens — a ``false`` sets nothing, leaving the user's
own (possibly stricter) choice:

- ``require_signatures: true`` -> ``trust.require_signatures`` and ``trust.allow_unsigned =
  false``, and the same under ``trust.enterprise.<org>`` (so ``--allow-unsigned`` cannot help);
- ``allowed_publishers`` -> ``trust.enterprise.<org>.allowed_publishers``: only those
  identities may sign what the organisation's source serves. A plain identity is
  ``{identity, issuer = security.issuer, names = ["*"]}``; a table ``{identity, issuer, names}``
  says which issuer vouches for it (default ``security.issuer``) and which distribution names
  (a glob or a list of globs, default ``*``) it may sign;
- ``vulnerability_scanning: true`` -> ``audit.require_database = true``: no install unchecked;
- ``audit_logging: true`` needs no key: the client's audit log cannot be switched off.

``<org>`` is :attr:`EnterprisePolicy.org`, the organisation's name as a slug (``Acme Corp`` ->
``acme-corp``, as ``registry deploy --org`` names it): ``--source enterprise --org acme-corp``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from anya_plugins.enterprise import POLICY_ENV
from anya_plugins.enterprise.errors import PolicyError

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig, Setting

AUTH_METHODS: Final = ("basic", "ldap", "token")
STANDARDS: Final = ("SOC2", "ISO27001", "PCI-DSS")
FREQUENCIES: Final = ("monthly",)
URL_KEY: Final = "registry.private.url"
ORG_KEY: Final = "registry.private.org"
AUTH_METHOD_KEY: Final = "registry.private.auth-method"
VERIFY_SSL_KEY: Final = "registry.private.verify-ssl"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOP_KEYS: Final = (
    "organization", "registry_url", "auth_method", "verify_ssl", "security", "compliance",
    "support", "roles",
)  # fmt: skip

AuthMethod = Literal["basic", "ldap", "token"]


@dataclass(frozen=True)
class AllowedPublisher:
    """One entry of ``security.allowed_publishers``: who may sign, vouched for by which OIDC
    issuer, for which distribution names (globs)."""

    identity: str
    issuer: str
    names: tuple[str, ...] = ("*",)

    def trust_entry(self) -> dict[str, object]:
        """The entry as ``trust.enterprise.<org>.allowed_publishers`` spells it."""
        return {"identity": self.identity, "issuer": self.issuer, "names": list(self.names)}


@dataclass(frozen=True)
class SecurityPolicy:
    require_signatures: bool = True
    allowed_publishers: tuple[AllowedPublisher, ...] = ()
    audit_logging: bool = True
    vulnerability_scanning: bool = True
    issuer: str | None = None
    """The OIDC issuer that vouches for plain identities in :attr:`allowed_publishers`
    (required with them)."""


@dataclass(frozen=True)
class ReportingPolicy:
    frequency: str = "monthly"
    recipients: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 25
    sender: str | None = None


@dataclass(frozen=True)
class CompliancePolicy:
    standards: tuple[str, ...] = ()
    reporting: ReportingPolicy = field(default_factory=ReportingPolicy)


@dataclass(frozen=True)
class EnterprisePolicy:
    path: str
    organization: str
    registry_url: str
    auth_method: AuthMethod = "basic"
    verify_ssl: bool = True
    security: SecurityPolicy = field(default_factory=SecurityPolicy)
    compliance: CompliancePolicy = field(default_factory=CompliancePolicy)
    support: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, object] = field(default_factory=dict)
    """The ``roles`` table as written (checked with ``role_set_from_mapping``)."""

    @property
    def org(self) -> str:
        """The organisation as a source and deploy name: ``Acme Corp`` -> ``acme-corp``."""
        return re.sub(r"[^a-z0-9]+", "-", self.organization.lower()).strip("-")

    def settings(self) -> dict[str, object]:
        """The layered configuration's keys this policy sets (the environment and
        ``--config`` may override them)."""
        return {
            URL_KEY: self.registry_url,
            ORG_KEY: self.org,
            AUTH_METHOD_KEY: self.auth_method,
            VERIFY_SSL_KEY: self.verify_ssl,
        }

    def enforced_settings(self) -> dict[str, object]:
        """The keys the policy's security demands set above every other layer; only
        demands (``true``, a publisher list) set anything, so the policy never loosens."""
        security = self.security
        org = f"trust.enterprise.{self.org}"
        enforced: dict[str, object] = {}
        if security.require_signatures:
            enforced.update({
                "trust.require_signatures": True, "trust.allow_unsigned": False,
                f"{org}.require_signatures": True, f"{org}.allow_unsigned": False,
            })  # fmt: skip
        if security.allowed_publishers:
            enforced[f"{org}.allowed_publishers"] = [
                publisher.trust_entry() for publisher in security.allowed_publishers
            ]
        if security.vulnerability_scanning:
            enforced["audit.require_database"] = True
        return enforced


def load_policy(path: Path) -> EnterprisePolicy:
    """Read and check the policy file (YAML for ``.yml``/``.yaml``, else TOML); a PolicyError
    lists every field that is wrong."""
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise PolicyError(
            f"{path}: the enterprise policy cannot be read: {error.strerror or error}",
            hint=f"check the path (--policy or ${POLICY_ENV})",
        ) from None
    data, lines = _parse(path, text)
    prefix: tuple[str, ...] = ()
    if isinstance(data, dict) and set(data) == {"enterprise"}:
        data, prefix = data["enterprise"], ("enterprise",)
    checker = _Checker(path, lines, prefix)
    policy = checker.policy(data)
    checker.raise_problems()
    assert policy is not None
    return policy


class _Checker:
    """Checks fields one by one, collecting a problem (with its line) for each wrong one."""

    def __init__(
        self, path: Path, lines: Mapping[tuple[str, ...], int], prefix: tuple[str, ...]
    ) -> None:
        self.path = path
        self.lines = lines
        self.prefix = prefix
        self.problems: list[tuple[int, str]] = []

    def problem(self, where: tuple[str, ...], message: str) -> None:
        full = (*self.prefix, *where)
        line = next(
            (self.lines[full[:n]] for n in range(len(full), 0, -1) if full[:n] in self.lines),
            None,
        )
        at = f"line {line}: " if line else ""
        named = ".".join(where).replace(".[", "[")
        self.problems.append((line or 0, f"{at}{named or '(document)'}: {message}"))

    def raise_problems(self) -> None:
        if self.problems:
            count = len(self.problems)
            listed = "\n".join(f"  {problem}" for _, problem in sorted(self.problems))
            raise PolicyError(
                f"{self.path}: {count} problem{'s' if count > 1 else ''} in the enterprise "
                f"policy:\n{listed}",
                hint="fix each field named; the policy is not used until it is valid",
            )

    def policy(self, data: Any) -> EnterprisePolicy | None:
        if not isinstance(data, dict):
            self.problem((), "the policy must be a table of fields")
            return None
        self.secrets(data, ())
        self.unknown(data, (), _TOP_KEYS)
        organization = self.text(data, ("organization",), required=True)
        url = self.url(data)
        auth = self.choice(data, ("auth_method",), AUTH_METHODS, "basic")
        verify = self.flag(data, ("verify_ssl",), True)
        return EnterprisePolicy(
            path=str(self.path),
            organization=organization or "",
            registry_url=url or "",
            auth_method=auth,  # type: ignore[arg-type]
            verify_ssl=verify,
            security=self.security(data.get("security", {})),
            compliance=self.compliance(data.get("compliance", {})),
            support=self.support(data.get("support", {})),
            roles=self.roles(data.get("roles", {})),
        )

    def security(self, table: Any) -> SecurityPolicy:
        where = ("security",)
        if not self.is_table(table, where):
            return SecurityPolicy()
        self.unknown(table, where, ("require_signatures", "allowed_publishers", "issuer",
                                    "audit_logging", "vulnerability_scanning"))  # fmt: skip
        issuer = self.issuer(table, (*where, "issuer"))
        publishers = self.publishers(table, issuer)
        require = self.flag(table, (*where, "require_signatures"), True)
        if require and table.get("allowed_publishers", ()) == []:
            self.problem(
                (*where, "allowed_publishers"),
                "require_signatures is true but no publisher is allowed: nothing would install",
            )
        return SecurityPolicy(
            require_signatures=require,
            allowed_publishers=publishers,
            audit_logging=self.flag(table, (*where, "audit_logging"), True),
            vulnerability_scanning=self.flag(table, (*where, "vulnerability_scanning"), True),
            issuer=issuer,
        )

    def issuer(self, table: Mapping[str, Any], where: tuple[str, ...]) -> str | None:
        issuer = self.text(table, where)
        if issuer is not None and not urlsplit(issuer).netloc:
            self.problem(where, f"{issuer!r} is not the URL of an OIDC issuer")
            return None
        return issuer

    def publishers(
        self, security: Mapping[str, Any], issuer: str | None
    ) -> tuple[AllowedPublisher, ...]:
        """``security.allowed_publishers``: plain identities (vouched for by ``issuer``) and
        tables ``{identity, issuer, names}``, each wrong entry named with its line."""
        where = ("security", "allowed_publishers")
        value = security.get("allowed_publishers", [])
        if isinstance(value, (str, dict)):
            value = [value]
        if not isinstance(value, list):
            self.problem(
                where, f"expected a list of identities or publisher tables, got {_kind(value)}"
            )
            return ()
        # an invalid security.issuer is reported once, where it is written
        issuer_known = issuer is not None or "issuer" in security
        found: list[AllowedPublisher] = []
        unvouched = False
        for index, item in enumerate(value):
            at = (*where, f"[{index}]")
            if isinstance(item, dict):
                publisher = self.publisher(item, at, issuer, issuer_known=issuer_known)
                found.extend(() if publisher is None else (publisher,))
            elif isinstance(item, str) and item.strip():
                unvouched = unvouched or issuer is None
                found.extend(() if issuer is None else (AllowedPublisher(item.strip(), issuer),))
            else:
                self.problem(
                    at, f"expected an identity or a table {{identity, issuer, names}}, got "
                    f"{_kind(item)}",
                )  # fmt: skip
        if unvouched and not issuer_known:
            self.problem(
                where,
                "needs security.issuer: an identity means nothing without the OIDC issuer "
                "that vouched for it (e.g. https://token.actions.githubusercontent.com)",
            )
        return tuple(found)

    def publisher(
        self, table: Mapping[str, Any], where: tuple[str, ...], issuer: str | None, *,
        issuer_known: bool,
    ) -> AllowedPublisher | None:  # fmt: skip
        """One table ``{identity, issuer, names}``; ``issuer`` defaults to security.issuer and
        ``names`` (a glob or a list of globs) to ``*``."""
        self.secrets(table, where)
        self.unknown(table, where, ("identity", "issuer", "names"))
        identity = self.text(table, (*where, "identity"), required=True)
        own = self.issuer(table, (*where, "issuer"))
        if own is None and "issuer" not in table and not issuer_known:
            self.problem(
                (*where, "issuer"),
                "required (or security.issuer): an identity means nothing without the OIDC "
                "issuer that vouched for it",
            )
        names = self.strings(table, (*where, "names")) if "names" in table else ("*",)
        if table.get("names") == []:
            self.problem((*where, "names"), 'expected at least one name glob (e.g. "*")')
        vouched_by = own if "issuer" in table else issuer
        if identity is None or vouched_by is None or not names:
            return None
        return AllowedPublisher(identity, vouched_by, names)

    def roles(self, table: Any) -> dict[str, object]:
        """Each role checked as ``registry deploy --policy`` checks it, one problem per role."""
        from anya_plugins.registry.roles import RoleError, role_set_from_mapping

        if not self.is_table(table, ("roles",)):
            return {}
        for name, body in table.items():
            try:
                role_set_from_mapping({str(name): body}, defaults=False, source="roles")
            except RoleError as error:
                key, _, message = error.message.partition(": ")
                where = tuple(key.split(".")) if key.startswith(f"roles.{name}") else ()
                hint = f" ({error.hint})" if error.hint else ""
                self.problem(where or ("roles", str(name)), f"{message or key}{hint}")
        return dict(table)

    def compliance(self, table: Any) -> CompliancePolicy:
        where = ("compliance",)
        if not self.is_table(table, where):
            return CompliancePolicy()
        self.unknown(table, where, ("standards", "reporting"))
        standards = self.strings(table, (*where, "standards"))
        for standard in standards:
            if standard.upper() not in STANDARDS:
                self.problem(
                    (*where, "standards"),
                    f"unknown standard {standard!r} (known: {', '.join(STANDARDS)})",
                )
        return CompliancePolicy(
            tuple(s.upper() for s in standards), self.reporting(table.get("reporting", {}))
        )

    def reporting(self, value: Any) -> ReportingPolicy:
        where = ("compliance", "reporting")
        if isinstance(value, str):
            return ReportingPolicy(frequency=self.frequency(value, where))
        if not self.is_table(value, where):
            return ReportingPolicy()
        self.unknown(value, where, ("frequency", "recipients", "smtp", "sender"))
        recipients = self.strings(value, (*where, "recipients"))
        for address in recipients:
            if not _EMAIL.match(address):
                self.problem((*where, "recipients"), f"{address!r} is not an e-mail address")
        host, port = self.smtp(value.get("smtp"), (*where, "smtp"))
        sender = self.text(value, (*where, "sender"))
        if sender is not None and not _EMAIL.match(sender):
            self.problem((*where, "sender"), f"{sender!r} is not an e-mail address")
        return ReportingPolicy(
            frequency=self.frequency(value.get("frequency", "monthly"), (*where, "frequency")),
            recipients=recipients,
            smtp_host=host,
            smtp_port=port,
            sender=sender,
        )

    def frequency(self, value: Any, where: tuple[str, ...]) -> str:
        if value not in FREQUENCIES:
            self.problem(
                where, f"{value!r} is not a reporting frequency ({', '.join(FREQUENCIES)})"
            )
            return "monthly"
        return str(value)

    def smtp(self, value: Any, where: tuple[str, ...]) -> tuple[str | None, int]:
        if value is None:
            return None, 25
        host, _, port = str(value).rpartition(":") if ":" in str(value) else (str(value), "", "25")
        if not isinstance(value, str) or not host or not port.isdigit():
            self.problem(where, f"{value!r} is not HOST or HOST:PORT")
            return None, 25
        return host, int(port)

    def support(self, value: Any) -> dict[str, str]:
        if isinstance(value, str):
            return {"contact": value}
        if not self.is_table(value, ("support",)):
            return {}
        for key, item in value.items():
            if not isinstance(item, str):
                self.problem(("support", str(key)), "expected text")
        return {str(k): v for k, v in value.items() if isinstance(v, str)}

    def url(self, data: Mapping[str, Any]) -> str | None:
        from anya_plugins.sources.credentials import redact

        where = ("registry_url",)
        url = self.text(data, where, required=True)
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            self.problem(where, f"{redact(url)!r} is not an http(s) URL")
        elif parts.password is not None or parts.username is not None:
            self.problem(
                where,
                "the URL carries credentials; they would be kept in plain text — take them "
                "out and use $ANYA_REGISTRY_USER/$ANYA_REGISTRY_PASSWORD or the keyring",
            )
        return url

    def secrets(self, table: Mapping[str, Any], where: tuple[str, ...]) -> None:
        for key, value in table.items():
            if _SECRET_KEY.search(str(key)):
                self.problem(
                    (*where, str(key)),
                    "credentials do not belong in the policy file (plain text); use the "
                    "environment or the system keyring",
                )
            elif isinstance(value, dict):
                self.secrets(value, (*where, str(key)))

    def unknown(
        self, table: Mapping[str, Any], where: tuple[str, ...], known: tuple[str, ...]
    ) -> None:
        for key in table:
            if key not in known and not _SECRET_KEY.search(str(key)):
                self.problem((*where, str(key)), f"unknown field (known: {', '.join(known)})")

    def is_table(self, value: Any, where: tuple[str, ...]) -> bool:
        if isinstance(value, dict):
            return True
        self.problem(where, f"expected a table of fields, got {_kind(value)}")
        return False

    def text(
        self, table: Mapping[str, Any], where: tuple[str, ...], *, required: bool = False
    ) -> str | None:
        value = table.get(where[-1])
        if value is None:
            if required:
                self.problem(where, "required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"expected non-empty text, got {_kind(value)}")
            return None
        return value.strip()

    def flag(self, table: Mapping[str, Any], where: tuple[str, ...], default: bool) -> bool:
        value = table.get(where[-1], default)
        if not isinstance(value, bool):
            self.problem(where, f"expected true or false, got {_kind(value)}")
            return default
        return value

    def choice(
        self, table: Mapping[str, Any], where: tuple[str, ...], choices: tuple[str, ...],
        default: str,
    ) -> str:  # fmt: skip
        value = table.get(where[-1], default)
        if value not in choices:
            self.problem(where, f"expected one of {', '.join(choices)}, got {_kind(value)}")
            return default
        return str(value)

    def strings(self, table: Mapping[str, Any], where: tuple[str, ...]) -> tuple[str, ...]:
        value = table.get(where[-1], [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(where, f"expected a list of text, got {_kind(value)}")
            return ()
        return tuple(value)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{type(value).__name__} {value!r}" if not isinstance(value, dict) else "a table"


def _parse(path: Path, text: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    if path.suffix.lower() in (".yml", ".yaml"):
        return _parse_yaml(path, text)
    from anya_plugins.config.lines import key_lines
    from anya_plugins.config.tomlfile import parse_toml
    from anya_plugins.errors import ConfigError

    try:
        return parse_toml(path, text), key_lines(text)
    except ConfigError as error:
        raise PolicyError(error.message, hint=error.hint) from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise PolicyError(
            f"{path}: {where}not valid YAML: {getattr(error, 'problem', error)}",
            hint="check the indentation and quoting around that line",
        ) from None
    lines: dict[tuple[str, ...], int] = {}
    _yaml_lines(node, (), lines)
    return data, lines


def _yaml_lines(node: Any, where: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*where, str(key.value))
            lines.setdefault(path, key.start_mark.line + 1)
            _yaml_lines(value, path, lines)
    elif isinstance(node, yaml.SequenceNode):  # items as ``[0]``, ``[1]``, ...
        for index, item in enumerate(node.value):
            path = (*where, f"[{index}]")
            lines.setdefault(path, item.start_mark.line + 1)
            _yaml_lines(item, path, lines)


def policy_settings(policy: EnterprisePolicy, *, enforced: bool = False) -> list[Setting]:
    """The policy's keys as settings of the ``policy`` layer of the configuration: its
    registry keys, or with ``enforced`` its security demands."""
    from anya_plugins.config.keys import split_key
    from anya_plugins.config.layers import Entry, Origin, Setting

    origin = Origin("policy", policy.path)
    values = policy.enforced_settings() if enforced else policy.settings()
    return [Setting(split_key(key), Entry(key, value, origin)) for key, value in values.items()]


def with_policy(config: LayeredConfig, policy: EnterprisePolicy) -> LayeredConfig:
    """``config`` with the policy's layer: its registry keys win over the user's file (the
    environment and ``--config`` still win over them, to debug a machine); its security
    demands win over every layer."""
    return config.with_policy(
        policy_settings(policy), enforced=policy_settings(policy, enforced=True)
    )


def configured_policy(config: LayeredConfig, environ: Mapping[str, str]) -> LayeredConfig:
    """``config`` with the policy ``$ANYA_ENTERPRISE_POLICY`` names, or unchanged without it
    (an invalid policy is an error: nothing runs under a policy that was not read)."""
    path = policy_path(environ)
    return config if path is None else with_policy(config, load_policy(path))


def policy_path(environ: Mapping[str, str]) -> Path | None:
    """``$ANYA_ENTERPRISE_POLICY``, when set."""
    configured = environ.get(POLICY_ENV)
    return Path(configured).expanduser() if configured else None


@dataclass(frozen=True)
class PolicyView:
    """A checked policy and the values of its keys once every layer is merged (the
    environment or ``--config`` may still override one), each with its origin."""

    policy: EnterprisePolicy
    settings: tuple[tuple[str, object, str], ...]
    """``(key, value, origin)`` for each key the policy sets."""


def view_policy(
    path: Path | None, *, environ: Mapping[str, str], overrides: tuple[str, ...] = ()
) -> PolicyView:
    """Load the policy at ``path`` (default ``$ANYA_ENTERPRISE_POLICY``) into the user's layered
    configuration and show what it sets."""
    from anya_plugins.config.layers import load_config

    chosen = path or policy_path(environ)
    if chosen is None:
        raise PolicyError(
            "no enterprise policy file", hint=f"pass the file, or export {POLICY_ENV}=FILE"
        )
    policy = load_policy(chosen)
    config = with_policy(load_config(environ=environ, overrides=overrides), policy)
    shown = []
    for key in (*policy.settings(), *policy.enforced_settings()):
        entry = config.get(key)
        if entry is not None:
            shown.append((key, entry.value, str(entry.origin)))
    return PolicyView(policy, tuple(shown))
