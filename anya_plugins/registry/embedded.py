"""The embedded default registry: one command brings up a local devpi with the Anya layout.

Passwords for the layout's users come from their environment variables when set;
otherwise they are generated once and kept (mode 0600) in the state directory, so
``anya-ext publish`` against the embedded registry needs no set-up at all.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.errors import AnyaError
from anya_plugins.registry import embedded_tuf
from anya_plugins.registry.devpi import ApplyReport, Credentials, apply_layout
from anya_plugins.registry.errors import RegistryError
from anya_plugins.registry.hostdist import (
    HOST_INDEX,
    HostPublication,
    publish_host,
    running_version,
)
from anya_plugins.registry.layout import EnvPassword, IndexPublisher, Layout, load_layout
from anya_plugins.registry.publishers import remember as remember_publishers
from anya_plugins.registry.publishers import remembered as remembered_publishers
from anya_plugins.registry.publishers import with_publishers, without_publishers
from anya_plugins.registry.server import (
    SECRETS_DIR,
    RegistryStatus,
    admin_credentials,
    start,
    status,
    stop,
)
from anya_plugins.sources.local_registry import registry_dir

DEFAULT_PORT = 3141
_USERS_FILE = "users.json"
_UPSTREAM_FILE = "upstream.url"
_TRUSTED_ROOT_FILE = "trusted_root.json"


@dataclass(frozen=True)
class EmbeddedRegistry:
    """A running embedded registry with the layout applied."""

    url: str
    state_dir: Path
    layout: Path
    report: ApplyReport
    started: bool
    host: HostPublication | None = None
    """anya-plugins on the host index (None when the layout has no such index)."""
    unsigned: tuple[str, ...] = ()
    """Signed indexes with no publisher configured: they refuse every upload."""


def default_state_dir() -> Path:
    """``$ANYA_REGISTRY_DIR``, else ``registry`` in the user data directory: the directory
    the default sources read the registry's URL from."""
    return registry_dir()


def default_layout() -> Path:
    """The layout shipped inside the wheel, or ``index-config/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_index_config", here.parent / "index-config"):
        if (candidate / "layout.toml").is_file():
            return candidate / "layout.toml"
    raise RegistryError("the default registry layout is missing from this installation")


def up(
    state_dir: Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    layout_path: Path | None = None,
    upstream: str | None = None,
    host_wheel: Path | None = None,
    trusted_root: Path | None = None,
    publishers: Sequence[IndexPublisher] = (),
    tuf: Path | None = None,
) -> EmbeddedRegistry:
    """Start the registry if it is not running, apply the layout (idempotently), publish
    anya-plugins to the host index if the layout has one.

    ``upstream`` replaces the URL of every layout mirror that has a ``url_env`` (an
    air-gapped site's own simple index instead of PyPI); it is remembered in the state
    directory, so a later ``up`` without it keeps the mirror where it was. ``host_wheel`` is
    the anya-plugins wheel to publish (default: built from the source checkout; see
    ``hostdist``).

    ``trusted_root`` is the Sigstore trusted root (JSON) that uploads to signed indexes must
    chain to (default: Sigstore's public-good root); ``publishers`` sign the releases of every
    signed index that names none itself. Both are remembered like ``upstream``; a running
    registry keeps the root it was started with (a different one is refused: stop it first).
    ``tuf`` is a TUF directory (``registry tuf init``): devpi signs the metadata of the
    indexes it delegates to (``--anya-tuf``); remembered the same way (``embedded_tuf``).
    """
    directory = (state_dir or default_state_dir()).resolve()
    layout_file = layout_path or default_layout()
    layout = load_layout(layout_file)
    current = status(directory)
    started = not current.running
    root = _trusted_root(directory, trusted_root, running=current.running)
    tuf_dir = embedded_tuf.chosen_directory(directory, tuf, running=current.running)
    if publishers:
        directory.mkdir(parents=True, exist_ok=True)
        remember_publishers(directory, publishers)
    layout = with_publishers(layout, remembered_publishers(directory))
    url = (
        start(
            directory,
            port=port,
            trusted_root=root,
            extra_options=embedded_tuf.server_options(tuf_dir),
        ).url
        if started
        else str(current.url)
    )
    environ = {**os.environ, **_generated_passwords(directory, layout)}
    if upstream is not None:
        (directory / _UPSTREAM_FILE).write_text(f"{upstream}\n")
    remembered = _remembered_upstream(directory)
    if remembered is not None:
        environ.update({m.url_env: remembered for m in layout.mirrors if m.url_env is not None})
    report = apply_layout(url, layout, admin_credentials(directory), environ=environ)
    host = None
    if any(index.name == HOST_INDEX for index in layout.indexes):
        owner = user_credentials(HOST_INDEX.split("/", 1)[0], directory)
        if owner is not None:
            host = _publish_host(url, owner, host_wheel)
    return EmbeddedRegistry(
        url, directory, layout_file, report, started, host, without_publishers(layout)
    )


def _trusted_root(directory: Path, given: Path | None, *, running: bool) -> Path | None:
    """The trusted root to start with: a copy of ``given`` kept in the state directory, else
    the copy an earlier ``up`` kept (None: Sigstore's public-good root)."""
    kept = directory / _TRUSTED_ROOT_FILE
    if given is None:
        return kept if kept.is_file() else None
    try:
        content = given.read_bytes()
    except OSError as error:
        raise RegistryError(f"--trusted-root {given}: {error.strerror or error}") from None
    if kept.is_file() and kept.read_bytes() == content:
        return kept
    if running:
        raise RegistryError(
            f"the registry in {directory} is running with another trusted root",
            hint="stop it (anya-ext registry down) and bring it up with the new root",
        )
    directory.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(content)
    return kept


def _remembered_upstream(directory: Path) -> str | None:
    try:
        return (directory / _UPSTREAM_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def _publish_host(url: str, owner: Credentials, wheel: Path | None) -> HostPublication:
    """Publish anya-plugins; a failure is reported with the rest, not fatal (the registry runs,
    and extensions whose host is not served fail to resolve with a clear message)."""
    try:
        return publish_host(url, owner, wheel=wheel)
    except AnyaError as error:
        hint = f" ({error.hint})" if error.hint else ""
        detail = f"not published: {error}{hint}"
        return HostPublication(HOST_INDEX, running_version(), False, detail)


def down(state_dir: Path | None = None) -> bool:
    """Stop the embedded registry; False when it was not running."""
    return stop((state_dir or default_state_dir()).resolve())


def registry_status(state_dir: Path | None = None) -> RegistryStatus:
    return status((state_dir or default_state_dir()).resolve())


def user_credentials(user: str, state_dir: Path | None = None) -> Credentials | None:
    """The stored password of a layout user of the embedded registry, if one was generated."""
    directory = (state_dir or default_state_dir()).resolve()
    if user == "root":
        return admin_credentials(directory)
    stored = _read_users(directory)
    return Credentials(user, stored[user]) if user in stored else None


def _generated_passwords(directory: Path, layout: Layout) -> dict[str, str]:
    """Environment values for every user whose password variable is unset."""
    original = _read_users(directory)
    stored = dict(original)
    values: dict[str, str] = {}
    for user in layout.users:
        if not isinstance(user.password, EnvPassword):
            continue
        variable = user.password.variable
        if os.environ.get(variable):
            stored[user.name] = os.environ[variable]
        elif user.name not in stored:
            stored[user.name] = secrets.token_urlsafe(24)
        values[variable] = stored[user.name]
    if stored != original:
        _write_users(directory, stored)
    return values


def _users_file(directory: Path) -> Path:
    return directory / SECRETS_DIR / _USERS_FILE


def _read_users(directory: Path) -> dict[str, str]:
    try:
        data = json.loads(_users_file(directory).read_text())
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()}


def _write_users(directory: Path, users: dict[str, str]) -> None:
    target = _users_file(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(users, handle)
    temporary.replace(target)
