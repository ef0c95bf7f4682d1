"""``-v``/``-vv``/``-q``: how much of the library's logging reaches stderr.

Without a flag only warnings show (one line each: a failed extension, a cache that cannot be
written); ``-v`` adds what the library does (which mirror served each request, which resolver
ran, how long each step took, a failed extension's traceback); ``-vv`` adds debug detail;
``-q`` leaves errors only, and no progress lines.
"""

from __future__ import annotations

import logging
import sys

LOGGERS = ("anya_plugins", "anya")
"""Ours and the extensions' (``anya.extensions.<name>``); third-party libraries stay quiet."""


def level_for(verbose: int, quiet: int) -> int:
    if quiet:
        return logging.ERROR
    if verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return logging.WARNING


def configure(verbose: int, quiet: int) -> None:
    """Send our loggers to stderr at the level the flags ask for (idempotent)."""
    level = level_for(verbose, quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(with_names=verbose >= 2))
    handler.set_name("anya-ext")
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if h.get_name() != "anya-ext"]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


class _Formatter(logging.Formatter):
    """``warning: ...`` as errors read ``error: ...``; with ``-vv`` the logger's name too."""

    def __init__(self, *, with_names: bool) -> None:
        super().__init__("%(name)s: %(message)s" if with_names else "%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"


def is_quiet() -> bool:
    """Whether ``-q`` was given (progress lines and notes are left out)."""
    return logging.getLogger(LOGGERS[0]).getEffectiveLevel() >= logging.ERROR
