"""A private registry for one organisation: devpi-server with devpi-ldap, roles, nginx TLS.

:func:`plan_deployment` is pure: the files a deployment writes under its directory and the
processes it runs, each with its systemd unit. :func:`deploy` applies a plan: it checks that
the directory (LDAP) answers before anything is written, rewrites only the files whose
content changed, starts what is not running, restarts devpi-server or reloads nginx only
when their configuration changed, and creates the organisation's index. A second run with
the same options changes nothing. ``dry_run`` returns the plan without touching anything.

Layout of the directory::

    ldap.yaml            devpi-ldap: users in ou=users, groups (groupOfNames) anywhere below
    roles.json           the role set the server enforces (plugin_roles)
    devpi/               the devpi state (server/, secrets/, log, pid)
    nginx/nginx.conf     TLS in front of devpi; no cache (a cached private file leaks)
    systemd/*.service    one unit per process

Read access: the organisation's index is readable only by members of the groups whose roles
may read; uploads by the groups whose roles may publish; users and indexes are changed by
``root`` and the groups whose roles may manage.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

from anya_plugins.config.atomic import write_atomic
from anya_plugins.registry import server
from anya_plugins.registry.client_settings import IndexClientSettings, client_settings
from anya_plugins.registry.errors import RegistryError
from anya_plugins.registry.layout import ADMIN_USER, IndexSpec, Layout, LiteralPassword, UserSpec
from anya_plugins.registry.plugin_audit_trail import READERS_OPTION as AUDIT_READERS_OPTION
from anya_plugins.registry.plugin_ldap_guard import first_answering
from anya_plugins.registry.plugin_roles import ROLES_OPTION
from anya_plugins.registry.roles import RoleSet, role_set_from_mapping

INDEX_NAME: Final = "extensions"
"""The organisation's index: ``<org>/extensions``."""
LDAP_FILE: Final = "ldap.yaml"
STORAGE_FILE: Final = "devpi/storage.yml"
ROLES_FILE: Final = "roles.json"
DEVPI_DIR: Final = "devpi"
NGINX_DIR: Final = "nginx"
NGINX_CONF: Final = "nginx/nginx.conf"
NGINX_PID: Final = "nginx/nginx.pid"
SYSTEMD_DIR: Final = "systemd"
_ORG_PASSWORD: Final = "org-password"
_NGINX_TIMEOUT = 10.0


class DeployError(RegistryError):
    """The deployment cannot be planned or applied; nothing was changed unless it says so."""


@dataclass(frozen=True)
class DeployOptions:
    """What ``anya-ext registry deploy`` was asked for."""

    org: str
    ldap_url: str
    base_dn: str
    tls_cert: Path
    tls_key: Path
    directory: Path
    storage: str = "fs"
    """``fs`` or ``postgresql://user:password@host:port/database`` (devpi-postgresql)."""
    server_name: str = "localhost"
    """The host name clients use (and the TLS certificate names)."""
    listen: str = "0.0.0.0"
    https_port: int = 443
    devpi_port: int = 3141
    """devpi-server's own port, on 127.0.0.1 only: nginx is the only way in."""
    roles: Mapping[str, object] = field(default_factory=dict)
    """Role definitions added to (or replacing) the defaults, as a policy file's ``roles``."""
    policy: Path | None = None
    """A policy file (YAML for ``.yml``/``.yaml``, else TOML; its content may sit under an
    ``enterprise`` key) whose ``roles`` table comes before :attr:`roles`."""


@dataclass(frozen=True)
class PlannedFile:
    path: str
    """Relative to the deployment directory."""
    content: str = field(repr=False)
    mode: int = 0o644


@dataclass(frozen=True)
class PlannedProcess:
    name: str
    unit: str
    """The systemd unit file (under ``systemd/``) that runs it."""
    command: tuple[str, ...]


@dataclass(frozen=True)
class DeployPlan:
    directory: Path
    files: tuple[PlannedFile, ...]
    processes: tuple[PlannedProcess, ...]
    index: str
    url: str
    """Where clients reach the registry (through nginx)."""
    managers: tuple[str, ...]
    storage_options: tuple[str, ...] = field(repr=False)
    devpi_options: tuple[str, ...]
    layout: Layout = field(repr=False)


FileAction = Literal["created", "updated", "unchanged"]
ProcessAction = Literal["started", "restarted", "reloaded", "unchanged", "planned"]


@dataclass(frozen=True)
class DeployResult:
    """What :func:`deploy` did (or, with ``dry_run``, would write)."""

    directory: str
    url: str
    index: str
    dry_run: bool
    files: tuple[tuple[str, FileAction], ...]
    processes: tuple[tuple[str, ProcessAction], ...]
    client: IndexClientSettings
    plan: DeployPlan = field(repr=False)

    @property
    def changed(self) -> bool:
        return any(a != "unchanged" for _, a in self.files) or any(
            a != "unchanged" for _, a in self.processes
        )


def plan_deployment(options: DeployOptions) -> DeployPlan:
    """Every file and process of the deployment (pure; raises DeployError on bad options)."""
    directory = options.directory.resolve()
    role_set = role_set_from_mapping(
        {**policy_roles(options.policy), **options.roles}, source=f"{options.policy or ''} roles"
    )
    storage = storage_setting(options.storage)
    # The storage setting holds the database password: in a 0600 devpi config file, not on
    # a command line (the process list) or in the unit.
    storage_options = (f"--configfile={directory / STORAGE_FILE}",) if storage else ()
    managers = (ADMIN_USER, *(f":{g}" for g in role_set.groups_with("manage")))
    auditors = (ADMIN_USER, *(f":{g}" for g in role_set.groups_with("audit")))
    devpi_options = (
        # nginx, on this machine, says who the client is (X-Forwarded-For, the address it
        # saw appended last); waitress takes that one address from it for the audit trail.
        "--trusted-proxy=127.0.0.1",
        "--trusted-proxy-headers=x-forwarded-for",
        f"--ldap-config={directory / LDAP_FILE}",
        f"{ROLES_OPTION}={directory / ROLES_FILE}",
        f"{AUDIT_READERS_OPTION}={','.join(auditors)}",
    )
    index = f"{options.org}/{INDEX_NAME}"
    layout = _layout(options.org, index, role_set, directory)
    port = "" if options.https_port == 443 else f":{options.https_port}"
    url = f"https://{options.server_name}{port}"
    devpi = _devpi_process(options, directory, managers, (*storage_options, *devpi_options))
    nginx = _nginx_process(options.org, directory)
    files = (
        PlannedFile(LDAP_FILE, ldap_config(options.ldap_url, options.base_dn)),
        *((PlannedFile(STORAGE_FILE, storage_config(storage), 0o600),) if storage else ()),
        PlannedFile(ROLES_FILE, json.dumps(role_set.to_mapping(), indent=2) + "\n"),
        PlannedFile(NGINX_CONF, nginx_config(options, directory)),
        PlannedFile(f"{SYSTEMD_DIR}/{devpi.unit}", _devpi_unit(options.org, directory, devpi)),
        PlannedFile(f"{SYSTEMD_DIR}/{nginx.unit}", _nginx_unit(options.org, directory, nginx)),
    )
    return DeployPlan(
        directory=directory, files=files, processes=(devpi, nginx), index=index, url=url,
        managers=managers, storage_options=storage_options, devpi_options=devpi_options,
        layout=layout,
    )  # fmt: skip


def deploy(options: DeployOptions, *, dry_run: bool = False, timeout: float = 90.0) -> DeployResult:
    """Write and start the deployment ``options`` describe; idempotent. Raises DeployError."""
    plan = plan_deployment(options)
    client = client_settings(plan.url, plan.layout)[0]
    if dry_run:
        return DeployResult(
            directory=str(plan.directory), url=plan.url, index=plan.index, dry_run=True,
            files=tuple((f.path, _file_action(plan.directory, f)) for f in plan.files),
            processes=tuple((p.name, "planned") for p in plan.processes),
            client=client, plan=plan,
        )  # fmt: skip
    _check_before_writing(options)
    file_actions = {f.path: _write(plan.directory, f) for f in plan.files}
    devpi_action = _run_devpi(plan, file_actions, timeout)
    _apply_layout(plan)
    nginx_action = _run_nginx(plan, file_actions[NGINX_CONF])
    return DeployResult(
        directory=str(plan.directory), url=plan.url, index=plan.index, dry_run=False,
        files=tuple(file_actions.items()),
        processes=(("devpi-server", devpi_action), ("nginx", nginx_action)),
        client=client, plan=plan,
    )  # fmt: skip


def undeploy(directory: Path) -> bool:
    """Stop nginx and devpi-server of the deployment in ``directory``; False if none ran."""
    directory = directory.resolve()
    nginx_pid = _nginx_pid(directory)
    if nginx_pid is not None:
        os.kill(nginx_pid, signal.SIGQUIT)
        _wait_gone(nginx_pid)
    devpi_stopped = server.stop(directory / DEVPI_DIR)
    return nginx_pid is not None or devpi_stopped


def policy_roles(path: Path | None) -> dict[str, object]:
    """The ``roles`` table of a policy file (empty without a file or a table)."""
    if path is None:
        return {}
    try:
        text = path.read_text("utf-8")
        if path.suffix in (".yml", ".yaml"):
            import yaml

            document = yaml.safe_load(text)
        else:
            document = tomllib.loads(text)
    except (OSError, ValueError) as error:
        raise DeployError(f"{path}: the policy cannot be read: {error}") from None
    if isinstance(document, dict) and set(document) == {"enterprise"}:
        document = document["enterprise"]
    roles = document.get("roles", {}) if isinstance(document, dict) else None
    if not isinstance(roles, dict):
        raise DeployError(f"{path}: roles must be a table of roles, got {roles!r}")
    return roles


def storage_setting(storage: str) -> str | None:
    """devpi's ``storage`` for ``fs`` (None: its default) or a ``postgresql://`` URL."""
    if storage == "fs":
        return None
    parts = urlsplit(storage)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise DeployError(
            f"--storage {storage!r}: expected fs or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    fields = {
        "host": parts.hostname or "localhost",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": parts.path.strip("/"),
    }
    bad = [k for k, v in fields.items() if any(c in v for c in ',="\\\n')]
    if bad:
        raise DeployError(
            f"--storage: {', '.join(bad)} may not contain a comma, '=', a quote, "
            "a backslash or a line break"
        )
    return "pg8000:" + ",".join(f"{k}={v}" for k, v in fields.items() if v)


def storage_config(setting: str) -> str:
    """devpi's config file (YAML, read with strictyaml: block style) with ``storage``."""
    return f'devpi-server:\n  storage: "{setting}"\n'


def ldap_config(url: str, base_dn: str) -> str:
    """devpi-ldap's YAML: users by ``uid`` in ``ou=users``, groups by membership (their ``cn``).

    ``entryDN`` (an OpenLDAP operational attribute) gives the user's DN: devpi-ldap's
    ``dn`` fails on OpenLDAP.
    """
    document = {
        "devpi-ldap": {
            "url": url,
            "user_search": {
                "base": f"ou=users,{base_dn}",
                "filter": "(&(objectClass=inetOrgPerson)(uid={username}))",
                "attribute_name": "entryDN",
            },
            "group_search": {
                "base": base_dn,
                "filter": "(&(objectClass=groupOfNames)(member={userdn}))",
                "attribute_name": "cn",
            },
        }
    }
    # JSON is YAML: no YAML writer needed, and the values are quoted.
    return json.dumps(document, indent=2) + "\n"


def nginx_config(options: DeployOptions, directory: Path) -> str:
    """TLS in front of devpi, no cache: a cached file of a private index is served to anyone."""
    here = directory / NGINX_DIR
    temp = here / "tmp"
    listen = f"[{options.listen}]" if ":" in options.listen else options.listen
    return f"""# Written by anya-ext registry deploy for {options.org}; rewritten by the next.
worker_processes 1;
pid {directory / NGINX_PID};
error_log {here / "error.log"};
events {{ worker_connections 512; }}
http {{
    access_log {here / "access.log"};
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server {{
        listen {listen}:{options.https_port} ssl;
        server_name {options.server_name};
        ssl_certificate {options.tls_cert.resolve()};
        ssl_certificate_key {options.tls_key.resolve()};
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 512m;
        location / {{
            proxy_pass http://127.0.0.1:{options.devpi_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-outside-url $scheme://$http_host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
        }}
    }}
}}
"""


def _layout(org: str, index: str, role_set: RoleSet, directory: Path) -> Layout:
    readers = {*role_set.groups_with("read"), *role_set.groups_with("install")}
    return Layout(
        source=f"registry deploy --org {org}",
        users=(UserSpec(org, LiteralPassword(_org_password(directory))),),
        indexes=(
            IndexSpec(
                name=index, private=True, extensions=True,
                acl_upload=tuple(f":{g}" for g in role_set.groups_with("publish")),
                acl_read=tuple(sorted(f":{g}" for g in readers)),
                title=f"{org} extensions",
            ),
        ),
    )  # fmt: skip


def _org_password(directory: Path) -> str:
    """The organisation user's password (it owns the index; nobody signs in as it)."""
    path = directory / DEVPI_DIR / server.SECRETS_DIR / _ORG_PASSWORD
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return "(generated on first deploy)"


def _devpi_process(
    options: DeployOptions, directory: Path, managers: tuple[str, ...], extra: tuple[str, ...]
) -> PlannedProcess:
    command = server.serve_command(
        directory / DEVPI_DIR, "127.0.0.1", options.devpi_port, managers=managers,
        extra_options=extra,
    )  # fmt: skip
    return PlannedProcess(
        "devpi-server", f"anya-registry-{options.org}-devpi.service", tuple(command)
    )


def _nginx_process(org: str, directory: Path) -> PlannedProcess:
    command = (_nginx_binary(), "-p", str(directory / NGINX_DIR), "-c", str(directory / NGINX_CONF))
    return PlannedProcess("nginx", f"anya-registry-{org}-nginx.service", command)


def _devpi_unit(org: str, directory: Path, process: PlannedProcess) -> str:
    return f"""[Unit]
Description=Anya private registry of {org}: devpi-server with devpi-ldap and roles
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory={directory / DEVPI_DIR}
Environment=PYTHONUNBUFFERED=1
ExecStart={" ".join(process.command)}
Restart=on-failure
UMask=0077

[Install]
WantedBy=multi-user.target
"""


def _nginx_unit(org: str, directory: Path, process: PlannedProcess) -> str:
    command = " ".join(process.command)
    return f"""[Unit]
Description=Anya private registry of {org}: nginx, TLS in front of devpi-server
After=anya-registry-{org}-devpi.service
Requires=anya-registry-{org}-devpi.service

[Service]
Type=forking
PIDFile={directory / NGINX_PID}
ExecStartPre={command} -t
ExecStart={command}
ExecReload={command} -s reload
ExecStop={command} -s quit

[Install]
WantedBy=multi-user.target
"""


def _nginx_binary() -> str:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin") or "nginx"


def _check_before_writing(options: DeployOptions) -> None:
    """Everything that can fail without the server, checked before anything is written."""
    for label, path in (("--tls-cert", options.tls_cert), ("--tls-key", options.tls_key)):
        if not path.is_file():
            raise DeployError(f"{label} {path}: no such file", hint="nothing was written")
    if shutil.which(_nginx_binary()) is None:
        raise DeployError(
            "nginx is not installed", hint="apt-get install nginx-light; nothing was written"
        )
    if first_answering((options.ldap_url,)) is None:
        raise DeployError(
            f"the directory at {options.ldap_url} does not answer",
            hint="start it or check --auth; nothing was written and nothing was started",
        )
    if importlib.util.find_spec("devpi_ldap") is None:
        raise DeployError(
            "devpi-ldap is not installed", hint="pip install 'anya-plugins[enterprise]'"
        )
    if options.storage != "fs" and importlib.util.find_spec("devpi_postgresql") is None:
        raise DeployError(
            "--storage postgresql needs devpi-postgresql",
            hint="pip install 'anya-plugins[enterprise-postgresql]'; nothing was written",
        )


def _file_action(directory: Path, planned: PlannedFile) -> FileAction:
    path = directory / planned.path
    if not path.is_file():
        return "created"
    return "unchanged" if path.read_text() == planned.content else "updated"


def _write(directory: Path, planned: PlannedFile) -> FileAction:
    action = _file_action(directory, planned)
    if action != "unchanged":
        path = directory / planned.path
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, planned.content)
        path.chmod(planned.mode)
    return action


def _run_devpi(plan: DeployPlan, files: Mapping[str, FileAction], timeout: float) -> ProcessAction:
    state = plan.directory / DEVPI_DIR
    devpi = plan.processes[0]
    unit_changed = files[f"{SYSTEMD_DIR}/{devpi.unit}"] != "unchanged"
    config_changed = unit_changed or any(
        files.get(f, "unchanged") != "unchanged" for f in (LDAP_FILE, ROLES_FILE, STORAGE_FILE)
    )
    running = server.status(state).running
    if running and not config_changed:
        return "unchanged"
    if running:
        server.stop(state)
    port = int(devpi.command[devpi.command.index("--port") + 1])
    server.start(
        state, "127.0.0.1", port, timeout=timeout, managers=plan.managers,
        storage_options=plan.storage_options, extra_options=plan.devpi_options,
    )  # fmt: skip
    return "restarted" if running else "started"


def _apply_layout(plan: DeployPlan) -> None:
    from anya_plugins.registry.devpi import apply_layout

    state = plan.directory / DEVPI_DIR
    secret = state / server.SECRETS_DIR / _ORG_PASSWORD
    if not secret.exists():
        import secrets as token

        write_atomic(secret, token.token_urlsafe(32))
    layout = _layout(plan.index.split("/", 1)[0], plan.index, _role_set(plan), plan.directory)
    url = server.status(state).url
    apply_layout(str(url), layout, server.admin_credentials(state))


def _role_set(plan: DeployPlan) -> RoleSet:
    roles = json.loads((plan.directory / ROLES_FILE).read_text())
    return role_set_from_mapping(roles, defaults=False, source=str(plan.directory / ROLES_FILE))


def _run_nginx(plan: DeployPlan, conf: FileAction) -> ProcessAction:
    command = list(plan.processes[1].command)
    (plan.directory / NGINX_DIR / "tmp").mkdir(parents=True, exist_ok=True)
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise DeployError(f"nginx refuses {plan.directory / NGINX_CONF}:\n{checked.stderr.strip()}")
    pid = _nginx_pid(plan.directory)
    if pid is not None and conf == "unchanged":
        return "unchanged"
    if pid is not None:
        subprocess.run([*command, "-s", "reload"], capture_output=True, check=True)
        return "reloaded"
    started = subprocess.run(command, capture_output=True, text=True, check=False)
    deadline = time.monotonic() + _NGINX_TIMEOUT
    while started.returncode == 0 and _nginx_pid(plan.directory) is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if started.returncode != 0 or _nginx_pid(plan.directory) is None:
        raise DeployError(
            f"nginx did not start: {started.stderr.strip() or 'no pid file'}",
            hint=f"see {plan.directory / NGINX_DIR / 'error.log'}",
        )
    return "started"


def _nginx_pid(directory: Path) -> int | None:
    """The pid of the deployment's running nginx master, None when it is not running."""
    try:
        pid = int((directory / NGINX_PID).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"nginx" not in cmdline.read_bytes():
        return None
    return pid


def _wait_gone(pid: int, timeout: float = _NGINX_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


__all__ = [
    "DeployError",
    "DeployOptions",
    "DeployPlan",
    "DeployResult",
    "deploy",
    "plan_deployment",
    "undeploy",
]
