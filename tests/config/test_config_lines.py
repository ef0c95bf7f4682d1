from __future__ import annotations

from anya_plugins.config.lines import key_lines, line_for

TEXT = """\
# comment
[btc-wallet]
port = 8332
rpc.user = "me"
"quoted.key" = 1
notes = \"\"\"
fake = 1
\"\"\"

[btc-wallet.peers]  # trailing comment
first = { host = "a" }

[[servers]]
name = "x"
"""


def test_section_header_line_is_found() -> None:
    assert key_lines(TEXT)[("btc-wallet",)] == 2


def test_key_line_is_found_under_its_table() -> None:
    assert key_lines(TEXT)[("btc-wallet", "port")] == 3


def test_dotted_key_line_is_found() -> None:
    assert key_lines(TEXT)[("btc-wallet", "rpc", "user")] == 4


def test_quoted_key_with_a_dot_is_one_part() -> None:
    assert key_lines(TEXT)[("btc-wallet", "quoted.key")] == 5


def test_lines_inside_multiline_strings_are_not_keys() -> None:
    assert ("btc-wallet", "fake") not in key_lines(TEXT)


def test_subtable_header_with_comment_is_found() -> None:
    assert key_lines(TEXT)[("btc-wallet", "peers")] == 10


def test_array_of_tables_header_is_found() -> None:
    assert key_lines(TEXT)[("servers", "name")] == 14


def test_key_inside_inline_table_falls_back_to_enclosing_key() -> None:
    lines = key_lines(TEXT)
    assert line_for(lines, ("btc-wallet", "peers", "first", "host")) == 11


def test_unknown_key_has_no_line() -> None:
    assert line_for(key_lines(TEXT), ("elsewhere", "x")) is None
