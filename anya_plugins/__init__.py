"""Anya Extensions: discover, load and call extensions of the Anya platform.

``import anya_plugins`` is paid by every Anya process, so it imports nothing:
the public names below load on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "Host": "anya_plugins.host.host",
    "Extension": "anya_plugins.host.record",
    "ExtensionContext": "anya_plugins.host.api",
    "Command": "anya_plugins.host.api",
    "Health": "anya_plugins.host.api",
    "hookimpl": "anya_plugins.host.hookspecs",
    "hookspec": "anya_plugins.host.hookspecs",
    "HOST_API_VERSION": "anya_plugins.metadata.taxonomy",
    "AnyaError": "anya_plugins.errors",
    "Configuration": "anya_plugins.api.configuration",
    "ConfigItem": "anya_plugins.api.configuration",
    "Installer": "anya_plugins.api.installer",
    "InstallOptions": "anya_plugins.api.installer",
    "InstallReport": "anya_plugins.api.installer",
    "PackageChange": "anya_plugins.api.installer",
    "Verification": "anya_plugins.api.installer",
    "UninstallReport": "anya_plugins.api.installer",
    "OutdatedPackage": "anya_plugins.api.installer",
    "LockReport": "anya_plugins.api.installer",
    "RegistryClient": "anya_plugins.api.registry",
    "Hub": "anya_plugins.api.hub",
    "HubSearch": "anya_plugins.api.hub",
    "Signing": "anya_plugins.api.registry",
    "EmbeddedRegistry": "anya_plugins.api.embedded",
    "RegistryUpOptions": "anya_plugins.api.embedded",
    "RegistryState": "anya_plugins.api.embedded",
    "RegistryTopology": "anya_plugins.api.topology",
    "RegistryAccount": "anya_plugins.api.releases",
    "ReleaseManager": "anya_plugins.api.releases",
    "Resolver": "anya_plugins.api.resolver",
    "ResolutionStrategy": "anya_plugins.api.resolver",
    "Resolution": "anya_plugins.api.resolver",
    "Conflict": "anya_plugins.api.resolver",
    "Verifier": "anya_plugins.api.verification",
    "FileVerification": "anya_plugins.api.verification",
    "VulnerabilityScanner": "anya_plugins.api.audit",
    "EnvironmentAudit": "anya_plugins.api.audit",
    "AuditTrail": "anya_plugins.api.audit",
    "PackageCache": "anya_plugins.api.cache",
    "CachedFile": "anya_plugins.api.cache",
    "Platform": "anya_plugins.api.platform",
    "Compatibility": "anya_plugins.api.platform",
}

__all__ = [
    "HOST_API_VERSION",
    "AnyaError",
    "AuditTrail",
    "CachedFile",
    "Command",
    "Compatibility",
    "ConfigItem",
    "Configuration",
    "Conflict",
    "EmbeddedRegistry",
    "EnvironmentAudit",
    "Extension",
    "ExtensionContext",
    "FileVerification",
    "Health",
    "Host",
    "Hub",
    "HubSearch",
    "InstallOptions",
    "InstallReport",
    "Installer",
    "LockReport",
    "OutdatedPackage",
    "PackageCache",
    "PackageChange",
    "Platform",
    "RegistryAccount",
    "RegistryClient",
    "RegistryState",
    "RegistryTopology",
    "RegistryUpOptions",
    "ReleaseManager",
    "Resolution",
    "ResolutionStrategy",
    "Resolver",
    "Signing",
    "UninstallReport",
    "Verification",
    "Verifier",
    "VulnerabilityScanner",
    "__version__",
    "hookimpl",
    "hookspec",
]

if TYPE_CHECKING:
    from anya_plugins.api.audit import AuditTrail, EnvironmentAudit, VulnerabilityScanner
    from anya_plugins.api.cache import CachedFile, PackageCache
    from anya_plugins.api.configuration import ConfigItem, Configuration
    from anya_plugins.api.embedded import EmbeddedRegistry, RegistryState, RegistryUpOptions
    from anya_plugins.api.hub import Hub, HubSearch
    from anya_plugins.api.installer import (
        Installer,
        InstallOptions,
        InstallReport,
        LockReport,
        OutdatedPackage,
        PackageChange,
        UninstallReport,
        Verification,
    )
    from anya_plugins.api.platform import Compatibility, Platform
    from anya_plugins.api.registry import RegistryClient, Signing
    from anya_plugins.api.releases import RegistryAccount, ReleaseManager
    from anya_plugins.api.resolver import Conflict, Resolution, ResolutionStrategy, Resolver
    from anya_plugins.api.topology import RegistryTopology
    from anya_plugins.api.verification import FileVerification, Verifier
    from anya_plugins.errors import AnyaError
    from anya_plugins.host.api import Command, ExtensionContext, Health
    from anya_plugins.host.hookspecs import hookimpl, hookspec
    from anya_plugins.host.host import Host
    from anya_plugins.host.record import Extension
    from anya_plugins.metadata.taxonomy import HOST_API_VERSION


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'anya_plugins' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
