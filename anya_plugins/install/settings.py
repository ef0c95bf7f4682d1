"""The ``[install]`` configuration section: which tool resolves and installs.

```toml
[install]
tool = "uv"      # the default; "pip" resolves and installs with the target's own pip
```

uv is a dependency of anya-plugins, so it is always there; pip is the choice for an
environment whose policy allows only pip. ``ANYA_INSTALL__TOOL=pip`` (or ``--config
install.tool=pip``) picks it for one command. Both tools go through the same transaction:
the same checks, the same journal, hashes pinned either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from anya_plugins.install.installer import Installer, InstallStepFailed, PipInstaller, UvInstaller
from anya_plugins.install.resolver import PipResolver, Resolver, UvResolver, find_uv

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.sources.cache import DownloadCache

SECTION: Final = "install"
Tool = Literal["uv", "pip"]
TOOLS: Final[tuple[Tool, ...]] = ("uv", "pip")
DEFAULT_TOOL: Final[Tool] = "uv"

INSTALL_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {"tool": {"type": "string", "enum": list(TOOLS), "default": DEFAULT_TOOL}},
    "additionalProperties": False,
}
"""The keys of ``[install]``; environment and ``--config`` strings are typed by it."""


class InstallToolMissing(InstallStepFailed):
    """The configured tool cannot be found."""


@dataclass(frozen=True)
class InstallSettings:
    """The whole ``[install]`` section, defaults filled in."""

    tool: Tool = DEFAULT_TOOL

    def resolver(self) -> Resolver:
        return UvResolver(self._uv()) if self.tool == "uv" else PipResolver()

    def installer(self, cache: DownloadCache | None = None) -> Installer:
        """The tool's installer; uv installs from ``cache``'s staged files when given one."""
        return UvInstaller(self._uv(), cache) if self.tool == "uv" else PipInstaller()

    def _uv(self) -> str:
        uv = find_uv()
        if uv is None:
            raise InstallToolMissing(
                "uv is not installed beside anya-plugins, nor on PATH",
                hint="reinstall anya-plugins (uv is one of its dependencies), or set [install] "
                'tool = "pip"',
            )
        return uv


def load_install_settings(config: LayeredConfig) -> InstallSettings:
    """The ``[install]`` section of a layered configuration, checked against
    :data:`INSTALL_SCHEMA`; a ConfigError names a wrong value and where it was set."""
    if not config.section(SECTION):
        return InstallSettings()  # nothing set: no jsonschema import on the common path
    from anya_plugins.config.schema import validate_section

    section = validate_section(SECTION, INSTALL_SCHEMA, config)
    return InstallSettings(tool=cast(Tool, section["tool"]))
