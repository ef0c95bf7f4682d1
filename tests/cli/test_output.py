"""What the CLI writes: JSON of records and dataclasses, and a reader that goes away."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anya_plugins.cli.main import CLOSED_OUTPUT_EXIT
from anya_plugins.cli.render import to_json
from anya_plugins.host.inventory import Check, DoctorReport, ExtensionReport, FeatureReport


@dataclasses.dataclass(frozen=True)
class Pair:
    left: object
    right: object


def test_json_of_reports_has_every_field_and_nests_records() -> None:
    feature = FeatureReport("tor", True, False, ("stem",), ())
    report = ExtensionReport("x", "anya-ext-x", "1.0", "core/io", "enabled", ("tor",),
                             features=(feature,))  # fmt: skip

    [row] = json.loads(to_json([report]))

    assert row["features"] == [
        {"name": "tor", "enabled": True, "default": False, "requires": ["stem"], "enables": []}
    ]
    assert set(row) == set(report.fields())


def test_json_puts_one_element_per_line_with_keys_sorted() -> None:
    text = to_json({"b": [Check("z", True, "fine")], "a": 1})

    assert text.splitlines() == [
        "{",
        '  "a": 1,',
        '  "b": [{"detail": "fine", "ok": true, "subject": "z", "traceback": ""}]',
        "}",
    ]


def test_json_of_dataclasses_and_records_inside_each_other() -> None:
    value = Pair(DoctorReport((Check("a", False, "no"),)), {2: Path("/p")})

    assert json.loads(to_json(value)) == {
        "left": {"checks": [{"subject": "a", "ok": False, "detail": "no", "traceback": ""}]},
        "right": {"2": "/p"},
    }


@pytest.mark.parametrize(
    "argv", [("--json", "list", "--no-load"), ("list", "--no-load"), ("--version",)]
)
def test_a_reader_gone_away_ends_the_command_quietly(tmp_path: Path, argv: tuple[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone (``anya-ext list | head -0``)
    env = {**os.environ, "ANYA_CONFIG": str(tmp_path / "x.toml"), "ANYA_DATA_DIR": str(tmp_path)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "anya_plugins.cli", *argv],
            stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)

    assert (done.returncode, done.stderr) == (CLOSED_OUTPUT_EXIT, "")
