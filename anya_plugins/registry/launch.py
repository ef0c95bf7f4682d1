# mypy: disallow-untyped-calls=False
# (devpi-server's entry functions are untyped.)
"""``python -m anya_plugins.registry.launch init|serve``: devpi with the Anya plugin registered.

The embedded registry must enforce its policy whether or not the ``devpi_server`` entry
point of anya-plugins is installed, so the plugin is registered here explicitly (once:
the entry point, when present, loads the same module). ``init`` takes the root password
from the environment, so it never shows in the process list.
"""

from __future__ import annotations

import os
import sys

from pluggy import PluginManager

ROOT_PASSWORD_ENV = "ANYA_REGISTRY_INIT_ROOT_PASSWORD"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("init", "serve"):
        print("usage: python -m anya_plugins.registry.launch init|serve [devpi options]")
        return 2
    command, options = argv[0], argv[1:]
    pluginmanager = plugin_manager()
    if command == "init":
        from devpi_server.init import init

        password = os.environ.pop(ROOT_PASSWORD_ENV, "")
        # One argument: a generated password may begin with "-", which argparse would take
        # for an option.
        root = [f"--root-passwd={password}"] if password else []
        return int(init(pluginmanager=pluginmanager, argv=["devpi-init", *options, *root]))

    from devpi_server.main import CommandRunner, _main

    # The runner devpi-server's own entry point uses: it turns Fatal into exit code 1.
    with CommandRunner(pluginmanager=pluginmanager) as runner:
        runner.return_code = _main(pluginmanager, ["devpi-server", *options])
    return int(runner.return_code or 0)


def plugin_manager() -> PluginManager:
    """devpi-server's plugin manager with the Anya plugin registered (once)."""
    from devpi_server.config import get_pluginmanager

    from anya_plugins.registry import devpi_plugin

    pluginmanager: PluginManager = get_pluginmanager()
    if not pluginmanager.is_registered(devpi_plugin):
        pluginmanager.register(devpi_plugin, "anya-registry")
    return pluginmanager


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
