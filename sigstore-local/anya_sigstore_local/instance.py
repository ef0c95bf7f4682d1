"""``LocalSigstore``: an OIDC issuer, Fulcio and Rekor on 127.0.0.1, started and stopped together.

The services run on threads of the calling process and keep their state (keys, the
transparency log) in one directory, so a restarted instance signs with the same root
of trust and continues the same log. While running, the directory also holds the
client trust config that points sigstore-python at the services, and ``instance.json``,
which tells other processes (``python -m anya_sigstore_local token``)
where the instance listens.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from anya_sigstore_local.authority import DEFAULT_NAME, Authority
from anya_sigstore_local.ct_log import CertificateTransparencyLog
from anya_sigstore_local.errors import LocalInstanceError
from anya_sigstore_local.fulcio import Fulcio
from anya_sigstore_local.http_service import HttpService
from anya_sigstore_local.oidc import TOKEN_LIFETIME, OidcIssuer
from anya_sigstore_local.rekor import Rekor
from anya_sigstore_local.tlog import TransparencyLog
from anya_sigstore_local.trust_config import (
    ServiceUrls,
    client_trust_config,
    trusted_root,
    write_json,
)

CLIENT_TRUST_CONFIG_FILE = "client_trust_config.json"
TRUSTED_ROOT_FILE = "trusted_root.json"
INSTANCE_FILE = "instance.json"
LOG_FILE = "transparency-log.jsonl"


@dataclass(frozen=True)
class ServicePorts:
    """Ports to listen on; 0 picks a free one (the issuer URL, and so the identity's
    issuer in every certificate, then changes from run to run)."""

    oidc_issuer: int = 0
    fulcio: int = 0
    rekor: int = 0


@dataclass(frozen=True)
class InstanceRecord:
    """Where a running instance listens and where its trust files are, as ``instance.json``."""

    urls: ServiceUrls
    trust_config_path: Path
    trusted_root_path: Path
    pid: int

    def write(self, path: Path) -> None:
        """Write this record as JSON to ``path``."""
        write_json(
            path,
            {
                "oidcIssuer": self.urls.oidc_issuer,
                "fulcio": self.urls.fulcio,
                "rekor": self.urls.rekor,
                "trustConfig": str(self.trust_config_path),
                "trustedRoot": str(self.trusted_root_path),
                "pid": self.pid,
            },
        )

    @classmethod
    def read(cls, directory: Path) -> InstanceRecord:
        """The record of the instance running from ``directory``."""
        path = directory / INSTANCE_FILE
        try:
            document = json.loads(path.read_text())
            return cls(
                urls=ServiceUrls(
                    oidc_issuer=document["oidcIssuer"],
                    fulcio=document["fulcio"],
                    rekor=document["rekor"],
                ),
                trust_config_path=Path(document["trustConfig"]),
                trusted_root_path=Path(document["trustedRoot"]),
                pid=int(document["pid"]),
            )
        except FileNotFoundError as error:
            raise LocalInstanceError(
                f"{directory}: no local Sigstore instance is running from here",
                hint="start one: python -m anya_sigstore_local serve DIRECTORY",
            ) from error
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LocalInstanceError(f"{path}: unreadable instance record ({error!r})") from error


@dataclass(frozen=True)
class _Running:
    authority: Authority
    issuer: OidcIssuer
    record: InstanceRecord
    services: tuple[HttpService, ...]


class LocalSigstore:
    """A local Sigstore instance whose state lives in ``directory``.

    ``name`` names the authority created on the first start (a directory that already
    holds one keeps its name); ``host`` and ``ports`` say where the services listen.
    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with LocalSigstore(tmp_path) as sigstore:
            config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
            token = IdentityToken(sigstore.issue_token("alice@example.com"))
    """

    def __init__(
        self,
        directory: Path,
        *,
        name: str = DEFAULT_NAME,
        host: str = "127.0.0.1",
        ports: ServicePorts | None = None,
    ) -> None:
        self.directory = directory
        self._name = name
        self._host = host
        self._ports = ports or ServicePorts()
        self._running: _Running | None = None

    def start(self) -> LocalSigstore:
        """Load or create the authority, start the services and write the trust files."""
        if self._running is not None:
            raise LocalInstanceError(f"the local Sigstore in {self.directory} is already running")
        _refuse_a_second_instance(self.directory)
        authority = Authority.load_or_create(self.directory, name=self._name)
        services: list[HttpService] = []
        try:
            self._running = self._serve(authority, services)
        except BaseException:
            for service in services:
                service.close()
            raise
        return self

    def _serve(self, authority: Authority, services: list[HttpService]) -> _Running:
        """Bind and serve each service (into ``services``), then write the trust files."""
        oidc_http = _bind(services, "oidc-issuer", self._host, self._ports.oidc_issuer)
        fulcio_http = _bind(services, "fulcio", self._host, self._ports.fulcio)
        rekor_http = _bind(services, "rekor", self._host, self._ports.rekor)
        issuer = OidcIssuer(authority.oidc_issuer_key, oidc_http.url)
        fulcio = Fulcio(
            ca=authority.intermediate,
            ca_chain=authority.ca_chain,
            ct_log=CertificateTransparencyLog(authority.ct_log_key),
            verify_token=issuer.verify_token,
        )
        log = TransparencyLog(
            authority.transparency_log_key,
            name=authority.name,
            tree_id=authority.tree_id,
            storage=self.directory / LOG_FILE,
        )
        oidc_http.serve(issuer.routes())
        fulcio_http.serve(fulcio.routes())
        rekor_http.serve(Rekor(log).routes())
        urls = ServiceUrls(oidc_issuer=oidc_http.url, fulcio=fulcio_http.url, rekor=rekor_http.url)
        record = InstanceRecord(
            urls=urls,
            trust_config_path=write_json(
                self.directory / CLIENT_TRUST_CONFIG_FILE, client_trust_config(authority, urls)
            ),
            trusted_root_path=write_json(
                self.directory / TRUSTED_ROOT_FILE, trusted_root(authority, urls)
            ),
            pid=os.getpid(),
        )
        record.write(self.directory / INSTANCE_FILE)
        return _Running(authority, issuer, record, tuple(services))

    def stop(self) -> None:
        """Stop the services; keys, log and trust files stay in the directory."""
        running, self._running = self._running, None
        if running is None:
            return
        for service in running.services:
            service.close()
        (self.directory / INSTANCE_FILE).unlink(missing_ok=True)

    def __enter__(self) -> LocalSigstore:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def authority(self) -> Authority:
        """The keys and CA certificates of this instance."""
        return self._require_running().authority

    @property
    def urls(self) -> ServiceUrls:
        """Where the OIDC issuer, Fulcio and Rekor listen."""
        return self._require_running().record.urls

    @property
    def issuer_url(self) -> str:
        """The OIDC issuer URL: the ``issuer`` a verification policy expects."""
        return self.urls.oidc_issuer

    @property
    def trust_config_path(self) -> Path:
        """The client trust config file (``ClientTrustConfig``, ``sigstore --trust-config``)."""
        return self._require_running().record.trust_config_path

    @property
    def trusted_root_path(self) -> Path:
        """The trusted root file (``TrustedRoot.from_file``) for verifiers."""
        return self._require_running().record.trusted_root_path

    def issue_token(self, identity: str, *, lifetime: timedelta = TOKEN_LIFETIME) -> str:
        """An identity token for ``identity`` (an email address or a URI) from the local issuer."""
        return self._require_running().issuer.issue_token(identity, lifetime=lifetime)

    def _require_running(self) -> _Running:
        if self._running is None:
            raise LocalInstanceError(
                f"the local Sigstore in {self.directory} is not running",
                hint="call start() or use it in a 'with' block",
            )
        return self._running


def issue_token(directory: Path, identity: str, *, lifetime: timedelta = TOKEN_LIFETIME) -> str:
    """A token from the issuer of the instance running from ``directory``, in another process."""
    record = InstanceRecord.read(directory)
    issuer = OidcIssuer(Authority.load(directory).oidc_issuer_key, record.urls.oidc_issuer)
    return issuer.issue_token(identity, lifetime=lifetime)


def _refuse_a_second_instance(directory: Path) -> None:
    """Stop a second instance from rewriting the trust files of one that still runs."""
    if not (directory / INSTANCE_FILE).exists():
        return
    pid = InstanceRecord.read(directory).pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # the record of an instance that did not stop cleanly
    except PermissionError:
        pass  # alive, under another user
    raise LocalInstanceError(
        f"{directory}: a local Sigstore instance already runs from here (pid {pid})",
        hint=f"stop it first, or use another directory; if pid {pid} is not an instance, "
        f"remove {directory / INSTANCE_FILE}",
    )


def _bind(services: list[HttpService], name: str, host: str, port: int) -> HttpService:
    service = HttpService(name, host=host, port=port)
    services.append(service)
    return service
