"""What the registry shows is what the file says: an upload whose metadata disagrees with the
file's own METADATA is refused with 400 and nothing stored, however the metadata is sent.

Each lie is sent as a hand-made multipart POST (twine would send the file's own fields). All
project names here contain "veritas", which no other test module uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

from anya_plugins.registry.errors import DevpiError
from anya_plugins.registry.uploadcheck import ShownFields
from tests.registry_fixtures import PASSWORDS, Registry, Upload, metadata_wheel

pytestmark = pytest.mark.slow

EXPERIMENTAL = "community/experimental"
FAKE_SUMMARY = "Official Anya core"
FAKE_KEYWORDS = "anya-extension,anya-category:core/bitcoin,anya-host-api:>=1.0,anya-host-api:<2"
TRUE_SUMMARY = "A community experiment"
TRUE_KEYWORDS = ",".join(
    ("feeds", "anya-extension", f"anya-category:{EXPERIMENTAL}", "anya-host-api:>=1.0",
     "anya-host-api:<2")
)  # fmt: skip


def post_form(
    registry: Registry,
    index: str,
    fields: Mapping[str, str],
    *,
    user: str,
    password: str,
    wheel: Path | None = None,
) -> tuple[int, str]:
    """POST a multipart upload form as twine would, with whatever fields the caller chooses."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for key, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{key}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    if wheel is not None:
        content = wheel.read_bytes()
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="sha256_digest"\r\n\r\n'
                f"{hashlib.sha256(content).hexdigest()}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
                f'filename="{wheel.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        f"{registry.url}/{index}/",
        data=body,
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Basic {auth}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, f"{exc.reason} {exc.read().decode()}"


def upload_fields(name: str, *, summary: str, keywords: str) -> dict[str, str]:
    return {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.4",
        "name": name,
        "version": "0.1.0",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "summary": summary,
        "keywords": keywords,
    }


@pytest.fixture(scope="module")
def honest_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return metadata_wheel(
        tmp_path_factory.mktemp("veritas"), "anya-ext-veritas-feed", summary=TRUE_SUMMARY,
        keywords=("feeds",),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("summary", "keywords", "said"),
    [
        (FAKE_SUMMARY, TRUE_KEYWORDS, f"the upload says summary {FAKE_SUMMARY!r}"),
        (TRUE_SUMMARY, FAKE_KEYWORDS, "anya-category:core/bitcoin"),
    ],
    ids=["forged-summary", "forged-core-category"],
)
def test_upload_whose_form_lies_about_the_file_is_refused_and_not_stored(
    registry: Registry, honest_wheel: Path, summary: str, keywords: str, said: str
) -> None:
    fields = upload_fields("anya-ext-veritas-feed", summary=summary, keywords=keywords)

    status, answer = post_form(registry, EXPERIMENTAL, fields, user="acme",
                               password=PASSWORDS["acme"], wheel=honest_wheel)  # fmt: skip

    assert status == 400
    assert said in answer
    assert "anya-ext-veritas-feed" not in registry.client().projects(EXPERIMENTAL)


@pytest.fixture(scope="module")
def honestly_published(registry: Registry, upload: Upload, honest_wheel: Path) -> str:
    done = upload(EXPERIMENTAL, honest_wheel, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    return "anya-ext-veritas-feed"


def test_search_shows_the_summary_and_category_of_the_file(
    registry: Registry, honestly_published: str
) -> None:
    (hit,) = registry.client().search(EXPERIMENTAL, "veritas")

    assert (hit["name"], hit["summary"], hit["category"], hit["keywords"]) == (
        honestly_published, TRUE_SUMMARY, EXPERIMENTAL, ["feeds"],
    )  # fmt: skip


def test_info_from_the_index_shows_the_summary_and_category_of_the_file(
    registry: Registry, honestly_published: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "--json", "info", "--remote",
         honestly_published],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HOME": str(tmp_path), "ANYA_CACHE_DIR": str(tmp_path / "cache"),
             "ANYA_SOURCES__PRIMARY__URL": f"{registry.url}/{EXPERIMENTAL}/+simple/"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["summary"], info["category"]) == (TRUE_SUMMARY, EXPERIMENTAL)


def test_metadata_only_registration_over_a_stored_release_is_refused(
    registry: Registry, honestly_published: str
) -> None:
    fields = {
        ":action": "submit", "name": honestly_published, "version": "0.1.0",
        "summary": FAKE_SUMMARY, "keywords": FAKE_KEYWORDS,
    }  # fmt: skip

    status, answer = post_form(registry, EXPERIMENTAL, fields, user="acme",
                               password=PASSWORDS["acme"])  # fmt: skip

    assert status == 400
    assert "metadata-only registration" in answer
    (hit,) = registry.client().search(EXPERIMENTAL, "veritas")
    assert (hit["summary"], hit["category"]) == (TRUE_SUMMARY, EXPERIMENTAL)


def test_documentation_upload_carrying_a_summary_is_refused(
    registry: Registry, honestly_published: str
) -> None:
    fields = {
        ":action": "doc_upload", "name": honestly_published, "version": "0.1.0",
        "summary": FAKE_SUMMARY,
    }  # fmt: skip

    status, answer = post_form(registry, EXPERIMENTAL, fields, user="acme",
                               password=PASSWORDS["acme"])  # fmt: skip

    assert status == 400
    assert "may not carry a summary or keywords" in answer
    assert registry.client().search(EXPERIMENTAL, "veritas")[0]["summary"] == TRUE_SUMMARY


def test_push_of_a_release_whose_stored_metadata_lies_is_refused(
    registry: Registry, tmp_path: Path
) -> None:
    root = registry.client("root")
    root.create_index("root/veritas-loose", {"type": "anya", "anya_extensions": False})
    wheel = metadata_wheel(tmp_path, "anya-ext-veritas-pushed", summary=TRUE_SUMMARY)
    fields = upload_fields("anya-ext-veritas-pushed", summary=FAKE_SUMMARY, keywords=FAKE_KEYWORDS)
    status, answer = post_form(registry, "root/veritas-loose", fields, user="root",
                               password=registry.admin.password, wheel=wheel)  # fmt: skip
    assert status == 200, answer

    with pytest.raises(DevpiError) as raised:
        root.push("root/veritas-loose", "anya-ext-veritas-pushed", "0.1.0", EXPERIMENTAL)

    assert raised.value.status == 400
    assert "the upload says summary" in raised.value.problem
    assert "anya-ext-veritas-pushed" not in registry.client().projects(EXPERIMENTAL)


def test_fields_old_tools_send_as_unknown_or_as_lists_compare_as_the_file_says() -> None:
    shown = ShownFields.from_values("UNKNOWN", ["feeds, anya-extension", "anya-category:x"])

    assert shown == ShownFields(summary="", keywords=("feeds", "anya-extension", "anya-category:x"))


def test_fields_not_sent_are_not_compared() -> None:
    assert ShownFields.from_values(None, None) == ShownFields(summary=None, keywords=None)
