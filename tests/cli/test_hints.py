"""Every ``anya-ext ...`` command that a message or hint in the package tells people to run
exists, with the options it is given: each one is parsed by the real parser.

The strings are collected from the source (every string and f-string that is not a
docstring: error classes, raise sites, notes), so a hint added later is checked too. An
f-string's placeholders stand for a value (``X``) and ``[optional parts]`` are left out. A
command named without its required arguments ("until 'anya-ext trust repin'") passes: what
it names exists; every option it spells must too.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from anya_plugins.cli.parser import build_parser
from anya_plugins.errors import UsageError
from tests.support import REPO

PACKAGE = REPO / "anya_plugins"
START = re.compile(r"(?:^|['\"`(]|: |e\.g\. |with |run )anya-ext ")
"""Where a string tells someone to run a command: at its start, quoted, in parentheses, or
after ': ', 'e.g. ', 'with ', 'run ' (not prose such as "another anya-ext command")."""
ENDS = re.compile(r"['\"`;()]| \| | -- | or | and | then | e\.g\. | for | to | when | if ")
PLACEHOLDER = "X"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes (not messages)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    # attribute docstrings: a string expression right after an assignment
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            for statement in statements:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    ids.add(id(statement.value))
    return ids


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else PLACEHOLDER for part in node.values
        )
    return None


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    inside_fstring = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstring:
            continue
        text = _text(node)
        if text is not None and "anya-ext " in text:
            found.append(text)
    return found


def _commands(text: str) -> list[str]:
    """The command lines a string names, cut where the prose resumes."""
    commands = []
    for match in START.finditer(text):
        line = ENDS.split(text[match.end() :])[0]
        line = re.sub(r"\[[^\]]*\]", "", line).strip().rstrip(",:")  # no [optional parts]
        line = line if line.endswith("...") else line.rstrip(".")
        if line and not line.startswith(PLACEHOLDER):
            commands.append(line)
    return commands


def _all_hint_commands() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for text in _strings(path):
            for command in _commands(text):
                found.append((f"{path.relative_to(REPO)}", command))
    return sorted(set(found))


HINTS = _all_hint_commands()


def test_the_package_names_commands_in_its_messages() -> None:
    """The collector finds them (a collector that finds nothing would pass everything)."""
    assert len(HINTS) >= 15
    assert any(command.startswith("audit --update") for _path, command in HINTS)


@pytest.mark.parametrize(("where", "command"), HINTS, ids=[f"{w}:{c}" for w, c in HINTS])
def test_every_command_a_message_names_exists(where: str, command: str) -> None:
    words = [PLACEHOLDER if word.startswith("<") else word for word in shlex.split(command)]
    parser, _commands = build_parser(words[0] if words else None)
    try:
        parser.parse_args(words)
    except SystemExit as done:  # --help
        assert done.code == 0, f"{where}: 'anya-ext {command}' exits {done.code}"
    except UsageError as error:
        if error.message.startswith("the following arguments are required"):
            return  # the command is named, not spelt out: it exists, and so do its options
        pytest.fail(f"{where}: 'anya-ext {command}' is refused: {error.message}")


def test_a_command_that_does_not_exist_is_refused_by_this_check() -> None:
    parser, _commands = build_parser("audit")
    with pytest.raises(UsageError):
        parser.parse_args(["audit", "update"])


def test_the_collector_reads_a_quoted_hint_up_to_its_closing_quote() -> None:
    assert _commands("no database; run 'anya-ext audit update' first") == ["audit update"]
    assert _commands("another anya-ext command holds the lock") == []
