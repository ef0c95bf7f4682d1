"""The registry layout: which devpi users and indexes exist, read from ``index-config/layout.toml``.

The layout is data: parsing it checks everything that can be checked without a server
(names, references between indexes, ACL principals, categories, cycles in ``bases``), so
a broken file fails before anything on the server changes. Passwords are looked up in the
environment only when the layout is applied.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anya_plugins.metadata.taxonomy import CATEGORIES
from anya_plugins.registry.errors import LayoutError

ADMIN_USER = "root"
"""devpi's administrator; the layout never declares it (its password is the server's own)."""

ANONYMOUS = ":ANONYMOUS:"
AUTHENTICATED = ":AUTHENTICATED:"
SPECIAL_PRINCIPALS = (ANONYMOUS, AUTHENTICATED)

# devpi's own rule for user and index names (devpi_server.model.is_valid_name).
_NAME = re.compile(r"^[a-zA-Z0-9._@-]+$")
_USER_KEYS = frozenset({"password", "password_env", "email"})
_INDEX_KEYS = frozenset(
    {"bases", "acl_upload", "volatile", "private", "extensions", "categories", "title",
     "description", "acl_read", "acl_toxresult_upload", "require_signatures", "publishers"}
)  # fmt: skip
_PUBLISHER_KEYS = frozenset({"identity", "issuer"})
_MIRROR_KEYS = frozenset({"url", "url_env", "title", "description"})
_TOP_KEYS = frozenset({"users", "indexes", "mirrors"})

PYPI_SIMPLE = "https://pypi.org/simple/"
"""The default upstream of a mirror: PyPI's simple API."""


@dataclass(frozen=True)
class LiteralPassword:
    """A password written in the layout itself (fine for tests, not for production)."""

    value: str = field(repr=False)


@dataclass(frozen=True)
class EnvPassword:
    """A password read from an environment variable when the layout is applied."""

    variable: str


PasswordSource = LiteralPassword | EnvPassword


@dataclass(frozen=True)
class UserSpec:
    """One devpi user the layout declares."""

    name: str
    password: PasswordSource
    email: str | None = None


@dataclass(frozen=True)
class IndexPublisher:
    """A Sigstore identity whose PEP 740 attestations an index accepts on upload."""

    identity: str
    """The certificate identity (e-mail or URI), exact."""
    issuer: str
    """The OIDC issuer that vouched for it, exact."""


@dataclass(frozen=True)
class IndexSpec:
    """One devpi index the layout declares, named ``user/index``."""

    name: str
    bases: tuple[str, ...] = ()
    acl_upload: tuple[str, ...] = ()
    volatile: bool = False
    private: bool = False
    """A name uploaded here hides every version of that name on the bases."""
    extensions: bool = True
    """Uploads must satisfy the extension contract (checked by the server plugin)."""
    categories: tuple[str, ...] = ()
    """The extension categories this index accepts; empty means any category."""
    title: str | None = None
    description: str | None = None
    acl_read: tuple[str, ...] = (ANONYMOUS,)
    """Who may read the index (pages, metadata, files); default everyone."""
    acl_toxresult_upload: tuple[str, ...] = ()
    """Who may attach tox results; empty (the default) means the same as ``acl_upload``."""
    require_signatures: bool = False
    """Every uploaded file must carry a PEP 740 attestation by one of ``publishers``."""
    publishers: tuple[IndexPublisher, ...] = ()
    """Empty: the registry's publishers (``anya_plugins.registry.publishers``)."""

    @property
    def toxresult_uploaders(self) -> tuple[str, ...]:
        return self.acl_toxresult_upload or self.acl_upload

    @property
    def user(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def index(self) -> str:
        return self.name.split("/", 1)[1]


@dataclass(frozen=True)
class MirrorSpec:
    """A devpi ``type=mirror`` index, named ``user/index``: an upstream simple index, cached.

    Listed as a base of a layout index, it serves the third-party packages the extensions
    depend on. A name that exists on a layout index, an ``anya-ext-*`` name and any name on
    a private index are never taken from it (devpi's ``mirror_whitelist`` stays empty, and
    the server plugin filters the rest).
    """

    name: str
    url: str = PYPI_SIMPLE
    url_env: str | None = None
    """An environment variable that, when set, replaces ``url`` (an air-gapped site's mirror)."""
    title: str | None = None
    description: str | None = None

    @property
    def user(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def index(self) -> str:
        return self.name.split("/", 1)[1]

    def resolved_url(self, environ: Mapping[str, str]) -> str:
        """``url``, or the value of ``url_env`` when that variable is set and not empty."""
        if self.url_env is not None and environ.get(self.url_env):
            return environ[self.url_env]
        return self.url


@dataclass(frozen=True)
class Layout:
    """Every user and index of the registry, in the order the file lists them."""

    source: str
    users: tuple[UserSpec, ...] = ()
    indexes: tuple[IndexSpec, ...] = ()
    mirrors: tuple[MirrorSpec, ...] = ()

    def user(self, name: str) -> UserSpec:
        for user in self.users:
            if user.name == name:
                return user
        raise KeyError(name)

    def index(self, name: str) -> IndexSpec:
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(name)

    def mirror(self, name: str) -> MirrorSpec:
        for mirror in self.mirrors:
            if mirror.name == name:
                return mirror
        raise KeyError(name)

    @property
    def private_indexes(self) -> tuple[IndexSpec, ...]:
        return tuple(index for index in self.indexes if index.private)

    def creation_order(self) -> tuple[IndexSpec, ...]:
        """The indexes with every index after its bases (devpi refuses unknown bases)."""
        ordered: list[IndexSpec] = []
        placed: set[str] = set()
        mirror_names = {mirror.name for mirror in self.mirrors}

        def place(index: IndexSpec) -> None:
            if index.name in placed:
                return
            for base in index.bases:
                if base not in mirror_names:
                    place(self.index(base))
            placed.add(index.name)
            ordered.append(index)

        for index in self.indexes:
            place(index)
        return tuple(ordered)


def resolve_password(layout: Layout, user: UserSpec, environ: Mapping[str, str]) -> str:
    """The user's password; an unset or empty environment variable is an error."""
    if isinstance(user.password, LiteralPassword):
        return user.password.value
    value = environ.get(user.password.variable, "")
    if not value:
        raise LayoutError(
            layout.source,
            f"users.{user.name}.password_env",
            f"environment variable {user.password.variable} is not set",
            hint=f"export {user.password.variable}=<password for {user.name}> and apply again",
        )
    return value


def load_layout(path: Path) -> Layout:
    """Read and check a layout file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LayoutError(
            str(path), "", "no such file", hint="the default layout is index-config/layout.toml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(str(path), "", f"cannot be read: {exc}") from None
    return parse_layout(text, source=str(path))


def parse_layout(text: str, *, source: str = "<layout>") -> Layout:
    """Parse and check the text of a layout file; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(source, "", f"not valid TOML: {exc}") from None
    _no_unknown_keys(source, "", data, _TOP_KEYS)
    users = tuple(
        _parse_user(source, name, value)
        for name, value in _tables(source, "users", data.get("users", {}))
    )
    user_names = {user.name for user in users}
    indexes = tuple(
        _parse_index(source, name, value, user_names)
        for name, value in _tables(source, "indexes", data.get("indexes", {}))
    )
    mirrors = tuple(
        _parse_mirror(source, name, value, user_names)
        for name, value in _tables(source, "mirrors", data.get("mirrors", {}))
    )
    clash = {index.name for index in indexes} & {mirror.name for mirror in mirrors}
    if clash:
        raise LayoutError(
            source, f'mirrors."{min(clash)}"', "is also declared as an index", hint="rename one"
        )
    layout = Layout(source=source, users=users, indexes=indexes, mirrors=mirrors)
    _check_bases(layout)
    return layout


def _parse_user(source: str, name: str, data: Mapping[str, Any]) -> UserSpec:
    key = f"users.{name}"
    _check_name(source, key, name, "user name")
    if name == ADMIN_USER:
        raise LayoutError(
            source,
            key,
            f"{ADMIN_USER!r} is devpi's administrator and cannot be declared",
            hint="its password is set when the server is initialised",
        )
    _no_unknown_keys(source, key, data, _USER_KEYS)
    literal = _optional_str(source, f"{key}.password", data.get("password"))
    variable = _optional_str(source, f"{key}.password_env", data.get("password_env"))
    password: PasswordSource
    if literal is not None and variable is None:
        password = LiteralPassword(literal)
    elif variable is not None and literal is None:
        password = EnvPassword(variable)
    else:
        raise LayoutError(
            source,
            key,
            "needs exactly one of 'password' and 'password_env'",
            hint='prefer password_env = "VARIABLE" so no secret is committed',
        )
    return UserSpec(
        name=name, password=password, email=_optional_str(source, f"{key}.email", data.get("email"))
    )


def _parse_mirror(
    source: str, name: str, data: Mapping[str, Any], user_names: set[str]
) -> MirrorSpec:
    key = f'mirrors."{name}"'
    _check_index_name(source, key, name, user_names)
    _no_unknown_keys(source, key, data, _MIRROR_KEYS)
    url = _optional_str(source, f"{key}.url", data.get("url")) or PYPI_SIMPLE
    if not url.startswith(("http://", "https://")):
        raise LayoutError(
            source, f"{key}.url", f"{url!r} is not an http(s) URL", hint=f"e.g. {PYPI_SIMPLE}"
        )
    return MirrorSpec(
        name=name,
        url=url,
        url_env=_optional_str(source, f"{key}.url_env", data.get("url_env")),
        title=_optional_str(source, f"{key}.title", data.get("title")),
        description=_optional_str(source, f"{key}.description", data.get("description")),
    )


def _check_index_name(source: str, key: str, name: str, user_names: set[str]) -> None:
    owner, slash, index = name.partition("/")
    if not slash or "/" in index:
        raise LayoutError(source, key, "an index is named user/index, e.g. acme/private")
    _check_name(source, key, owner, "user name")
    _check_name(source, key, index, "index name")
    if owner not in user_names and owner != ADMIN_USER:
        raise LayoutError(
            source, key, f"owner {owner!r} is not declared", hint=f"add a [users.{owner}] table"
        )


def _parse_index(
    source: str, name: str, data: Mapping[str, Any], user_names: set[str]
) -> IndexSpec:
    key = f'indexes."{name}"'
    owner = name.partition("/")[0]
    _check_index_name(source, key, name, user_names)
    _no_unknown_keys(source, key, data, _INDEX_KEYS)
    acl_upload = _str_list(source, f"{key}.acl_upload", data.get("acl_upload", [owner]))
    _check_members(
        source,
        f"{key}.acl_upload",
        acl_upload,
        user_names | {ADMIN_USER, *SPECIAL_PRINCIPALS},
        "user",
        hint=f"declare the user, or use {ANONYMOUS} or {AUTHENTICATED}",
    )
    principals = user_names | {ADMIN_USER, *SPECIAL_PRINCIPALS}
    acl_read = _str_list(source, f"{key}.acl_read", data.get("acl_read", [ANONYMOUS]))
    acl_toxresult_upload = _str_list(
        source, f"{key}.acl_toxresult_upload", data.get("acl_toxresult_upload", list(acl_upload))
    )
    for acl_key, acl in (("acl_read", acl_read), ("acl_toxresult_upload", acl_toxresult_upload)):
        _check_members(
            source, f"{key}.{acl_key}", acl, principals, "user",
            hint=f"declare the user, or use {ANONYMOUS} or {AUTHENTICATED}",
        )  # fmt: skip
    require_signatures = _bool(
        source, f"{key}.require_signatures", data.get("require_signatures", False)
    )
    # Without publishers of its own, a signed index takes the registry's (``registry up
    # --publisher``); with none at all, the server refuses every upload and says so.
    publishers = _publishers(source, f"{key}.publishers", data.get("publishers", []))
    extensions = _bool(source, f"{key}.extensions", data.get("extensions", True))
    categories = _str_list(source, f"{key}.categories", data.get("categories", []))
    _check_members(
        source,
        f"{key}.categories",
        categories,
        CATEGORIES,
        "category",
        hint=f"use one of: {', '.join(CATEGORIES)}",
    )
    if categories and not extensions:
        raise LayoutError(
            source, f"{key}.categories", "only an index with extensions = true checks categories"
        )
    return IndexSpec(
        name=name,
        bases=_str_list(source, f"{key}.bases", data.get("bases", [])),
        acl_upload=acl_upload,
        volatile=_bool(source, f"{key}.volatile", data.get("volatile", False)),
        private=_bool(source, f"{key}.private", data.get("private", False)),
        extensions=extensions,
        categories=categories,
        title=_optional_str(source, f"{key}.title", data.get("title")),
        description=_optional_str(source, f"{key}.description", data.get("description")),
        acl_read=acl_read,
        acl_toxresult_upload=acl_toxresult_upload,
        require_signatures=require_signatures,
        publishers=publishers,
    )


def _publishers(source: str, key: str, value: object) -> tuple[IndexPublisher, ...]:
    if not isinstance(value, list):
        raise LayoutError(source, key, f"must be a list of tables, not {_type_name(value)}")
    publishers = []
    for position, item in enumerate(value):
        where = f"{key}[{position}]"
        if not isinstance(item, dict):
            raise LayoutError(source, where, f"must be a table, not {_type_name(item)}")
        _no_unknown_keys(source, where, item, _PUBLISHER_KEYS)
        identity = _optional_str(source, f"{where}.identity", item.get("identity"))
        issuer = _optional_str(source, f"{where}.issuer", item.get("issuer"))
        if not identity or not issuer:
            raise LayoutError(source, where, "needs both 'identity' and 'issuer'")
        publishers.append(IndexPublisher(identity, issuer))
    return tuple(publishers)


def _check_bases(layout: Layout) -> None:
    names = {index.name for index in layout.indexes} | {m.name for m in layout.mirrors}
    for index in layout.indexes:
        key = f'indexes."{index.name}".bases'
        _check_members(
            layout.source,
            key,
            index.bases,
            names,
            "index",
            hint="a base must be another index or a mirror of this layout",
        )
        cycle = _cycle_from(layout, index.name, ())
        if cycle:
            raise LayoutError(layout.source, key, f"bases form a cycle: {' -> '.join(cycle)}")


def _cycle_from(layout: Layout, name: str, path: tuple[str, ...]) -> tuple[str, ...]:
    if name in path:
        return (*path[path.index(name) :], name)
    if any(mirror.name == name for mirror in layout.mirrors):
        return ()
    for base in layout.index(name).bases:
        cycle = _cycle_from(layout, base, (*path, name))
        if cycle:
            return cycle
    return ()


def _tables(source: str, key: str, value: object) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(value, dict):
        raise LayoutError(source, key, f"must be a table, not {_type_name(value)}")
    for name, table in value.items():
        if not isinstance(table, dict):
            raise LayoutError(source, f"{key}.{name}", f"must be a table, not {_type_name(table)}")
        yield name, table


def _no_unknown_keys(
    source: str, key: str, data: Mapping[str, Any], allowed: frozenset[str]
) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        raise LayoutError(
            source, where, "unknown key", hint=f"allowed here: {', '.join(sorted(allowed))}"
        )


def _check_members(
    source: str,
    key: str,
    values: Iterable[str],
    allowed: Container[str],
    what: str,
    *,
    hint: str,
) -> None:
    for position, value in enumerate(values):
        if value not in allowed:
            raise LayoutError(source, f"{key}[{position}]", f"unknown {what} {value!r}", hint=hint)


def _check_name(source: str, key: str, name: str, what: str) -> None:
    if not _NAME.match(name):
        raise LayoutError(
            source,
            key,
            f"invalid {what} {name!r}",
            hint="use ASCII letters, digits and . _ @ -",
        )


def _optional_str(source: str, key: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise LayoutError(source, key, f"must be a string, not {_type_name(value)}")


def _bool(source: str, key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise LayoutError(source, key, f"must be true or false, not {_type_name(value)}")


def _str_list(source: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise LayoutError(source, key, f"must be a list of strings, not {_type_name(value)}")
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise LayoutError(
                source, f"{key}[{position}]", f"must be a string, not {_type_name(item)}"
            )
    if len(set(value)) != len(value):
        raise LayoutError(source, key, "lists the same entry twice")
    return tuple(value)


def _type_name(value: object) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)  # fmt: skip
