"""Yanked (PEP 592) and deprecated releases in an install: let in, with a note in the summary.

The resolver (uv or pip) already skips a yanked release unless a requirement pins it
exactly (``==``, the ``name@1.2.0`` spec); when it chose one anyway, the person installing
is warned, with the publisher's reason. A deprecated release (an Anya registry marks its
files) is installed like any other, and the summary says so with the publisher's message.
A deprecated *project* is its PEP 792 status, noted from its page by the transaction.
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


def deprecated_note(candidate: Candidate) -> str | None:
    """The summary line for a file of a deprecated release; None for any other file."""
    message = candidate.link.deprecated
    if message is None:
        return None
    because = f": {message}" if message else ""
    return (
        f"{candidate.pin.name} {candidate.pin.version} is deprecated on {candidate.source}{because}"
    )


def release_state_check(notes: list[str]) -> Callable[[Candidate], None]:
    """A file check that refuses nothing and notes each yanked or deprecated release."""

    def check(candidate: Candidate) -> None:
        for note in (yanked_note(candidate), deprecated_note(candidate)):
            if note is not None and note not in notes:
                notes.append(note)

    return check
