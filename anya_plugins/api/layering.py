"""A :class:`LayeredConfig` from the layers a :class:`~anya_plugins.api.Configuration` names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from anya_plugins.config.keys import KeyPath, join_key, split_key
from anya_plugins.config.layers import (
    HOST_SCHEMA,
    Entry,
    FileLayer,
    LayeredConfig,
    Origin,
    Setting,
    cli_settings,
    env_settings,
    read_file_layer,
)
from anya_plugins.enterprise import POLICY_ENV

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from anya_plugins.api.configuration import ConfigValue

VALUES_ORIGIN = Origin("cli", "Configuration.values")
NO_FILE_NAME = "(no configuration file)"


def layered_config(
    file: Path | None,
    environ: Mapping[str, str],
    overrides: Sequence[str],
    values: Mapping[str, ConfigValue],
) -> LayeredConfig:
    """The merged view; a wrong ``host`` value fails here, naming its origin. The enterprise
    policy ``ANYA_ENTERPRISE_POLICY`` names in ``environ`` is applied (its security demands
    over every layer: :func:`anya_plugins.enterprise.policy.with_policy`)."""
    file_layer = read_file_layer(file) if file is not None else _no_file()
    typed_by = {"host": HOST_SCHEMA}
    given = list(_value_settings(values))
    # ANYA_BTC_WALLET__PORT means section btc-wallet when another layer names that section
    named = {setting.path[0] for setting in (*file_layer.settings, *given)}
    settings = [
        *file_layer.settings,
        *env_settings(environ, sorted(named), typed_by),
        *cli_settings(overrides, typed_by),
        *given,
    ]
    config = LayeredConfig(file_layer, settings)
    if environ.get(POLICY_ENV):  # the policy module (~8 ms of imports) loads only for a policy
        from anya_plugins.enterprise.policy import configured_policy

        config = configured_policy(config, environ)
    _ = config.disabled, config.require_verified
    return config


def _no_file() -> FileLayer:
    return FileLayer(Path.cwd() / NO_FILE_NAME, "", {}, {}, ())


def _value_settings(values: Mapping[str, ConfigValue]) -> Iterator[Setting]:
    for key, value in values.items():
        for path, leaf in _leaves(_key_path(key, value), value):
            yield Setting(path, Entry(join_key(path), leaf, VALUES_ORIGIN))


def _key_path(key: str, value: ConfigValue) -> KeyPath:
    """A dotted key; a whole section (``"sources"``) may be given as a table."""
    parts = tuple(key.split("."))
    if isinstance(value, Mapping) and value and all(parts):
        return parts
    return split_key(key)


def _leaves(path: KeyPath, value: ConfigValue) -> Iterator[tuple[KeyPath, ConfigValue]]:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            yield from _leaves((*path, key), inner)
    else:
        yield path, value
