"""Download progress: rich bars on a terminal, one plain parseable line per file otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[int, int | None], None]


@contextmanager
def download_progress(enabled: bool = True) -> Iterator[Callable[[str], Progress | None]]:
    """Yield a factory: ``factory(filename)`` returns the callback for that file's download.
    ``-q`` turns it off like ``enabled=False``."""
    from anya_plugins.cli.logs import is_quiet

    if not enabled or is_quiet():
        yield lambda _name: None
        return
    if not sys.stderr.isatty():
        yield _plain
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TransferSpeedColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    with RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
    ) as bars:

        def for_file(name: str) -> Progress:
            task = bars.add_task(name, total=None)

            def update(done: int, total: int | None) -> None:
                bars.update(task, completed=done, total=total)

            return update

        yield for_file


def _plain(name: str) -> Progress:
    """``download <file> <bytes>`` once, when the file is complete."""

    def update(done: int, total: int | None) -> None:
        if total is not None and done >= total:
            print(f"download {name} {done}", file=sys.stderr, flush=True)

    return update
