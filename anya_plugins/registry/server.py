"""The embedded registry: one devpi-server process per state directory.

``state_dir`` holds everything: ``server/`` (devpi's data), ``secrets/`` (the server
secret and the generated root password, mode 0600), ``devpi-server.pid``,
``devpi-server.url`` and ``devpi-server.log``. The server is started through
``anya_plugins.registry.launch`` so the Anya plugin is always loaded, with
``--enable-core-metadata`` by default (PEP 658: installers read METADATA without
downloading wheels). devpi-web is not needed: search goes through the JSON API.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anya_plugins
from anya_plugins.registry.devpi import Credentials, DevpiClient
from anya_plugins.registry.errors import DevpiError, ServerError
from anya_plugins.registry.indexconfig import FEATURE, TRUSTED_ROOT_OPTION
from anya_plugins.registry.launch import ROOT_PASSWORD_ENV
from anya_plugins.registry.layout import ADMIN_USER
from anya_plugins.sources.local_registry import URL_FILE

LAUNCHER = "anya_plugins.registry.launch"
PID_FILE = "devpi-server.pid"
LOG_FILE = "devpi-server.log"
SERVER_DIR = "server"
SECRETS_DIR = "secrets"
_LOG_TAIL_LINES = 30
_POLL_SECONDS = 0.1

# Servers this process started, so that stop() can reap them (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class RunningRegistry:
    """A devpi-server that answers at ``url``."""

    url: str
    pid: int
    state_dir: Path
    log_file: Path
    admin: Credentials


@dataclass(frozen=True)
class RegistryStatus:
    """What a state directory holds and whether its server is running."""

    state_dir: Path
    initialised: bool
    running: bool
    url: str | None
    pid: int | None
    log_file: Path


def start(
    state_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    core_metadata: bool = True,
    timeout: float = 60.0,
    replica_of: Path | None = None,
    managers: Sequence[str] = (ADMIN_USER,),
    trusted_root: Path | None = None,
    primary_url: str | None = None,
    storage_options: Sequence[str] = (),
    extra_options: Sequence[str] = (),
) -> RunningRegistry:
    """Initialise ``state_dir`` once, start devpi-server, return when ``/+api`` answers.

    ``port=0`` picks a free port. With ``replica_of`` (the state directory of a running
    registry) the server is a read-only replica of it, sharing its secret: devpi's own
    replication, the mirror tier. Only ``managers`` (devpi's ``--restrict-modify``) may
    create or change users and indexes. ``trusted_root`` is the Sigstore trusted root that
    upload attestations to indexes with ``require_signatures`` must chain to (default:
    Sigstore's public-good root). ``primary_url`` makes it a replica of the server at that
    URL instead, with the secrets already in ``state_dir`` (a replica restarted on its own,
    or following a primary on another machine). ``storage_options`` (e.g. devpi-postgresql's
    ``--storage``) go to devpi-init and devpi-server, ``extra_options`` to devpi-server only
    (e.g. ``--ldap-config``). Raises ServerError, with
    the end of the log, when the server exits or does not answer within ``timeout`` seconds.
    """
    state_dir = state_dir.resolve()
    current = status(state_dir)
    if current.running:
        raise ServerError(
            f"a registry is already running from {state_dir} at {current.url} (pid {current.pid})",
            hint="stop it first, or use its URL",
        )
    if replica_of is not None:
        primary = status(replica_of.resolve())
        if not primary.running:
            raise ServerError(f"cannot replicate {replica_of}: its registry is not running")
        primary_url = str(primary.url)
        _share_secrets(replica_of.resolve(), state_dir)
    _prepare(state_dir)
    admin = admin_credentials(state_dir)
    if not current.initialised:
        replica_options = ["--primary-url", primary_url] if primary_url else []
        _init(state_dir, admin.password, timeout, [*replica_options, *storage_options])
    chosen_port = port or _free_port(host)
    url = f"http://{_url_host(host)}:{chosen_port}"
    command = serve_command(
        state_dir, host, chosen_port, core_metadata=core_metadata, managers=managers,
        trusted_root=trusted_root, primary_url=primary_url,
        extra_options=(*storage_options, *extra_options),
    )  # fmt: skip
    log_file = state_dir / LOG_FILE
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=state_dir,
            env=_child_env(),
            start_new_session=True,
        )
    _children[process.pid] = process
    (state_dir / PID_FILE).write_text(f"{process.pid}\n")
    (state_dir / URL_FILE).write_text(f"{url}\n")
    _wait_until_ready(process, url, log_file, timeout)
    return RunningRegistry(
        url=url, pid=process.pid, state_dir=state_dir, log_file=log_file, admin=admin
    )


def serve_command(
    state_dir: Path,
    host: str,
    port: int,
    *,
    core_metadata: bool = True,
    managers: Sequence[str] = (ADMIN_USER,),
    trusted_root: Path | None = None,
    primary_url: str | None = None,
    extra_options: Sequence[str] = (),
) -> list[str]:
    """The devpi-server command :func:`start` runs for ``state_dir`` (also what a systemd
    unit of a deployment runs); ``extra_options`` (storage options first) come last."""
    command = [
        sys.executable, "-m", LAUNCHER, "serve",
        "--serverdir", str(state_dir / SERVER_DIR),
        "--secretfile", str(state_dir / SECRETS_DIR / "secret"),
        "--host", host, "--port", str(port),
    ]  # fmt: skip
    if core_metadata:
        command.append("--enable-core-metadata")
    # Only ``managers`` create or change users and indexes (devpi's default lets anyone
    # create a user, and every user create indexes): ``:AUTHENTICATED:`` then means a
    # user an administrator created.
    command.append(f"--restrict-modify={','.join(managers)}")
    if trusted_root is not None:
        command.append(f"{TRUSTED_ROOT_OPTION}={trusted_root.resolve()}")
    # A primary answers its replicas (authenticated with the shared secret); the default
    # standalone role refuses them with 403.
    command += ["--primary-url", primary_url] if primary_url else ["--role", "primary"]
    command += extra_options
    return command


def stop(state_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop the server of ``state_dir``; False if none was running."""
    state_dir = state_dir.resolve()
    pid = _read_pid(state_dir)
    running = pid is not None and _is_our_server(pid)
    if pid is not None and running:
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            if not _wait_gone(pid, timeout):
                raise ServerError(f"devpi-server (pid {pid}) did not stop after SIGKILL")
    for name in (PID_FILE, URL_FILE):
        (state_dir / name).unlink(missing_ok=True)
    return running


def status(state_dir: Path) -> RegistryStatus:
    """Whether ``state_dir`` is initialised and its server running (a stale pid is not)."""
    state_dir = state_dir.resolve()
    pid = _read_pid(state_dir)
    running = pid is not None and _is_our_server(pid)
    url_file = state_dir / URL_FILE
    url = url_file.read_text().strip() if running and url_file.is_file() else None
    return RegistryStatus(
        state_dir=state_dir,
        initialised=(state_dir / SERVER_DIR / ".nodeinfo").is_file(),
        running=running,
        url=url,
        pid=pid if running else None,
        log_file=state_dir / LOG_FILE,
    )


def admin_credentials(state_dir: Path) -> Credentials:
    """devpi's ``root`` and the password generated for it when ``state_dir`` was prepared."""
    path = state_dir / SECRETS_DIR / "root-password"
    try:
        return Credentials(ADMIN_USER, path.read_text().strip())
    except FileNotFoundError:
        raise ServerError(
            f"{path} is missing", hint="start the registry once to initialise its state directory"
        ) from None


def _prepare(state_dir: Path) -> None:
    """Create the directories and, once, the secrets (0600, in a 0700 directory)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir = state_dir / SECRETS_DIR
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    for name in ("secret", "root-password"):
        path = secrets_dir / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))


def _share_secrets(primary_dir: Path, state_dir: Path) -> None:
    """A replica authenticates to its primary with the primary's secret."""
    import shutil

    secrets_dir = state_dir / SECRETS_DIR
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("secret", "root-password"):
        shutil.copy2(primary_dir / SECRETS_DIR / name, secrets_dir / name)


def _init(
    state_dir: Path, root_password: str, timeout: float, options: list[str] | None = None
) -> None:
    log_file = state_dir / LOG_FILE
    with log_file.open("ab") as log:
        try:
            done = subprocess.run(
                [sys.executable, "-m", LAUNCHER, "init", "--serverdir",
                 str(state_dir / SERVER_DIR), "--no-root-pypi", *(options or [])],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=state_dir,
                env={**_child_env(), ROOT_PASSWORD_ENV: root_password},
                timeout=timeout,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ServerError(
                f"devpi-init did not finish within {timeout:.0f} s\n{_log_tail(log_file)}"
            ) from None
    if done.returncode != 0:
        raise ServerError(
            f"devpi-init failed (exit code {done.returncode})\n{_log_tail(log_file)}",
            hint=f"the whole log is {log_file}",
        )


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log_file: Path, timeout: float
) -> None:
    client = DevpiClient(url, timeout=2.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _forget(process)
            raise ServerError(
                f"devpi-server exited with code {process.returncode} while starting\n"
                f"{_log_tail(log_file)}",
                hint=f"the whole log is {log_file}",
            )
        try:
            features = client.features()
        except DevpiError:
            time.sleep(_POLL_SECONDS)
            continue
        if FEATURE not in features:
            _terminate(process)
            raise ServerError(f"devpi-server at {url} answers but the Anya plugin is not loaded")
        return
    _terminate(process)
    raise ServerError(
        f"devpi-server did not answer at {url}/+api within {timeout:.0f} s\n{_log_tail(log_file)}",
        hint=f"the whole log is {log_file}",
    )


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _forget(process)


def _forget(process: subprocess.Popen[bytes]) -> None:
    _children.pop(process.pid, None)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = _children.get(pid)
        if child is not None and child.poll() is not None:
            _forget(child)
            return True
        if child is None and not _alive(pid):
            return True
        time.sleep(_POLL_SECONDS)
    return False


def _is_our_server(pid: int) -> bool:
    """Alive, and running the launcher (a recycled pid is someone else's process)."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.parent.is_dir():
        return True
    try:
        return LAUNCHER.encode() in cmdline.read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Exited, waiting for its parent to reap it (a server another process started, e.g. a
    test session, stopped by ``registry down``): it serves nothing any more."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "Z"


def _read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _free_port(host: str) -> int:
    # The port is free now; another process could take it before devpi binds it, in
    # which case devpi exits and start() reports the log (a rare, visible failure).
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _child_env() -> dict[str, str]:
    """This environment, with the directory that holds this ``anya_plugins`` importable."""
    env = dict(os.environ)
    root = str(Path(anya_plugins.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _log_tail(log_file: Path) -> str:
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(["--- end of " + str(log_file) + " ---", *lines[-_LOG_TAIL_LINES:]])
