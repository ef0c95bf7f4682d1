"""``python -m anya_plugins.cli``: the same as ``anya-ext``."""

from anya_plugins.cli.console import main

raise SystemExit(main())
