"""Typed values that cross the boundary between the host and an extension."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExtensionContext:
    """What the host hands an extension when it activates or deactivates it."""

    name: str
    host_api_version: str
    config: Mapping[str, Any]
    data_dir: Path
    logger: logging.Logger = field(compare=False, repr=False)


@dataclass(frozen=True)
class Health:
    """An extension's own account of whether it works."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Command:
    """A sub-command an extension adds to ``anya-ext``.

    ``add_arguments`` receives the sub-command's own parser; ``run`` receives the
    parsed arguments and returns the exit code (``None`` means 0).
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], int | None]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
