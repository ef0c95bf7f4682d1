"""The layered configuration, built by the caller: sources in order, per-extension values,
and where each value came from."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from anya_plugins.config.layers import Origin
from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import TypeAlias

    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.sources.settings import CacheSettings, SourceSettings, SourcesSettings

ConfigValue: TypeAlias = (
    "str | int | float | bool | Sequence[ConfigValue] | Mapping[str, ConfigValue]"
)
"""A configuration value as TOML holds it."""


class ConfigItem(Frozen):
    """One leaf value of the merged configuration and the layer it came from."""

    key: str
    value: ConfigValue
    origin: Origin

    def __init__(self, key: str, value: ConfigValue, origin: Origin) -> None:
        self._init(key, value, origin)


class Configuration(Frozen):
    """Everything Anya reads from configuration, as layers the caller chooses.

    Lowest first: ``file`` (a TOML file, or None for none), ``environ`` (``ANYA_<SECTION>__<KEY>``
    variables; empty unless given), then the layer of ``--config KEY=VALUE`` on the command
    line: ``overrides`` (such ``KEY=VALUE`` strings, typed as the command line types them)
    and ``values`` (typed values by dotted key; a mapping value sets each key inside it).
    Relative paths in a configuration without a file are relative to the working directory.
    Built this way, nothing is read from the user's own file or environment::

        Configuration(values={"sources.primary.url": "http://127.0.0.1:3141/anya/primary/+simple/"})

    :meth:`from_user` builds what the ``anya-ext`` command uses.

    Paths the configuration leaves unset take their defaults: the download cache
    (``sources.cache.dir``) and the data directory that holds the audit log
    (``audit.log``), its anchors and the advisories (``audit.advisories``) follow
    ``ANYA_CACHE_DIR`` and ``ANYA_DATA_DIR`` of this process, else the user's cache and
    data directories. Set those keys to keep a caller's state apart.
    """

    file: Path | None
    environ: Mapping[str, str]
    values: Mapping[str, ConfigValue]
    overrides: tuple[str, ...]

    def __init__(
        self,
        file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        values: Mapping[str, ConfigValue] | None = None,
        overrides: tuple[str, ...] = (),
    ) -> None:
        self._init(file, {} if environ is None else environ, {} if values is None else values,
                   overrides)  # fmt: skip

    @classmethod
    def from_user(cls, overrides: Sequence[str] = (), *, file: Path | None = None) -> Configuration:
        """The user's file (``file``, else ``ANYA_CONFIG`` or the platform default), this
        process's environment, and ``overrides`` (``KEY=VALUE`` strings, typed like
        ``--config``)."""
        from anya_plugins.config.paths import user_config_path

        return cls(
            file=file or user_config_path(), environ=dict(os.environ), overrides=tuple(overrides)
        )

    def with_values(self, values: Mapping[str, ConfigValue]) -> Configuration:
        """A copy with ``values`` set over this one's (later values win)."""
        return self.replace(values={**self.values, **values})

    def layered(self) -> LayeredConfig:
        """The merged view the library's internals read (:class:`LayeredConfig`)."""
        from anya_plugins.api.layering import layered_config

        return layered_config(self.file, self.environ, self.overrides, self.values)

    def get(self, key: str) -> ConfigItem | None:
        """The winning value of a dotted leaf key, or None when no layer sets it."""
        entry = self.layered().get(key)
        return None if entry is None else ConfigItem(entry.key, entry.value, entry.origin)

    def items(self) -> tuple[ConfigItem, ...]:
        """Every leaf value, sorted by key, each with its origin."""
        return tuple(
            ConfigItem(entry.key, entry.value, entry.origin) for entry in self.layered().entries()
        )

    def origin(self, key: str) -> Origin | None:
        """Where a key (a leaf, or a table with a header in the file) was set."""
        return self.layered().origin(key)

    def extension(self, name: str) -> Mapping[str, ConfigValue]:
        """The merged ``[<name>]`` table of one extension (``btc-wallet`` or
        ``anya-ext-btc-wallet``), defaults of its schema not included."""
        from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX

        section: Mapping[str, ConfigValue] = self.layered().section(
            name.removeprefix(DIST_NAME_PREFIX)
        )
        return section

    def set(
        self, key: str, raw: str, *, schema: Mapping[str, ConfigValue] | None = None
    ) -> ConfigValue:
        """Store ``key`` in :attr:`file`, ``raw`` typed as an environment value is (and
        checked against ``schema``, the section's JSON Schema, when given), keeping the
        file's comments; returns the value stored. The change (the key, never the value)
        goes to the audit log."""
        from anya_plugins.audit.config_changes import record_config_change
        from anya_plugins.config.store import set_value

        stored: ConfigValue = set_value(self._writable(), key, raw, schema)
        record_config_change(self.layered(), key, "set")
        return stored

    def unset(self, key: str) -> bool:
        """Remove ``key`` from :attr:`file` (audit-logged); False when it was not set there."""
        from anya_plugins.audit.config_changes import record_config_change
        from anya_plugins.config.store import unset_value

        removed = unset_value(self._writable(), key)
        if removed:
            record_config_change(self.layered(), key, "unset")
        return removed

    def set_disabled(self, extension: str, disabled: bool) -> bool:
        """Add the extension to ``host.disabled`` in :attr:`file`, or take it out
        (audit-logged); False when it already was so."""
        from anya_plugins.audit.config_changes import record_config_change
        from anya_plugins.config.store import set_disabled

        changed = set_disabled(self._writable(), extension, disabled=disabled)
        if changed:
            state = "disabled" if disabled else "enabled"
            record_config_change(self.layered(), "host.disabled", f"{extension} {state}")
        return changed

    def _writable(self) -> Path:
        if self.file is None:
            from anya_plugins.errors import UsageError

            raise UsageError(
                "this configuration has no file to store values in",
                hint="build the Configuration with file=PATH",
            )
        return self.file

    def sources(self) -> tuple[SourceSettings, ...]:
        """The configured indexes in the order they are consulted: primary, community, then
        each enterprise organisation; each with its URL and mirrors."""
        return self.sources_settings().sources

    def source(self, name: str) -> SourceSettings:
        """One source by name: ``primary``, ``community`` or ``enterprise.<org>``."""
        return self.sources_settings().source(name)

    def cache(self) -> CacheSettings:
        """The ``[sources.cache]`` settings: directory, size limit, page TTL."""
        return self.sources_settings().cache

    def sources_settings(self) -> SourcesSettings:
        from anya_plugins.sources.settings import load_sources

        return load_sources(self.layered(), environ=self.environ)
