"""Yanked releases (PEP 592) in an install: let in, with a warning in the summary.

The resolver (uv or pip) already skips a yanked release unless a requirement pins it
exactly (``==``, the ``name@1.2.0`` spec); when it chose one anyway, the person installing
is told, with the publisher's reason.
"""

from __future__ import annotations

from collections.abc import Callable

from anya_plugins.install.transaction import Candidate


def yanked_note(candidate: Candidate) -> str | None:
    """The summary line for a file of a yanked release; None for any other file."""
    link = candidate.link
    if not link.yanked:
        return None
    reason = f": {link.yanked_reason}" if link.yanked_reason else " (no reason given)"
    return (
        f"warning: {candidate.pin.name} {candidate.pin.version} is yanked on "
        f"{candidate.source}{reason}; installed because it was pinned exactly"
    )


def yanked_check(notes: list[str]) -> Callable[[Candidate], None]:
    """A file check that refuses nothing and notes each yanked release installed."""

    def check(candidate: Candidate) -> None:
        note = yanked_note(candidate)
        if note is not None and note not in notes:
            notes.append(note)

    return check
