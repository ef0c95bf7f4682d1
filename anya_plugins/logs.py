"""Logging from modules on a command's start-up path without importing ``logging`` (with
threading, traceback and string formatting, ~3 ms) for messages no one would see.

Until something imports ``logging`` no one has configured it, and an unconfigured root
logger drops INFO and DEBUG: :func:`info` and :func:`debug` log only once ``logging`` is
imported (``-v`` imports it to configure it, as does any program that sets up logging).
The messages go through ``logging.getLogger(name)`` as usual.
"""

from __future__ import annotations

import sys


def info(name: str, message: str, *args: object) -> None:
    """``logging.getLogger(name).info(message, *args)`` once ``logging`` is in use."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(name).info(message, *args)


def debug(name: str, message: str, *args: object) -> None:
    """``logging.getLogger(name).debug(message, *args)`` once ``logging`` is in use."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(name).debug(message, *args)
