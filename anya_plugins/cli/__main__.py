"""``python -m anya_plugins.cli``: the same as ``anya-ext``."""

from anya_plugins.cli.main import console_main

raise SystemExit(console_main())
