"""Advisories from an online service through pip-audit: by default osv.dev's API, which matches
the version on the server.

pip-audit's services answer without ratings (its ``VulnerabilityResult`` has no severity), so
the gate rates these findings with ``audit.unknown_severity``; the offline advisories, which
osv.dev publishes with their CVSS vectors, are rated. pip-audit ships no type information,
which is why it is met only in this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.version import Version

from anya_plugins.audit.errors import AdvisoryServiceError
from anya_plugins.audit.vulnerabilities import AdvisoryService, Finding, Package

DEFAULT_TIMEOUT = 15


class PipAuditService(AdvisoryService):
    """An :class:`AdvisoryService` over any pip-audit ``VulnerabilityService``."""

    def __init__(
        self,
        service: Any | None = None,
        *,
        timeout: int = DEFAULT_TIMEOUT,
        cache_dir: Path | None = None,
        osv_url: str | None = None,
    ) -> None:
        """Without ``service``, pip-audit's ``OsvService`` (at ``osv_url`` if given, caching
        answers in ``cache_dir``, else in pip-audit's own cache)."""
        if service is None:
            from pip_audit._service import OsvService  # type: ignore[import-untyped]

            options: dict[str, Any] = {"cache_dir": cache_dir, "timeout": timeout}
            if osv_url is not None:
                options["osv_url"] = osv_url
            service = OsvService(**options)
        self._service = service

    @property
    def description(self) -> str:
        url = getattr(self._service, "osv_url", None)
        return str(url) if url else type(self._service).__name__

    def query(self, package: Package, version: Version) -> list[Finding]:
        import requests
        from pip_audit._service import ResolvedDependency, ServiceError

        try:
            _, results = self._service.query(ResolvedDependency(name=package.name, version=version))
        except (ServiceError, requests.RequestException) as error:
            raise AdvisoryServiceError(
                self.description,
                f"could not check {package.name} {package.version}: {_reason(error)}",
                hint="check the network, or use offline advisories (audit.advisories)",
            ) from error
        return [_finding(package, version, result) for result in results]


def _finding(package: Package, version: Version, result: Any) -> Finding:
    published = result.published.isoformat() if result.published is not None else None
    return Finding(
        package=package.name,
        version=package.version,
        advisory=str(result.id),
        aliases=tuple(sorted(str(alias) for alias in result.aliases)),
        summary=str(result.description),
        severity=None,
        fixed_versions=tuple(str(fix) for fix in sorted(result.fix_versions) if fix > version),
        published=published,
    )


def _reason(error: BaseException) -> str:
    """The innermost cause, as a person would say it ('Connection refused')."""
    seen = {id(error)}
    while (inner := error.__cause__ or error.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        error = inner
    return str(error) or type(error).__name__
