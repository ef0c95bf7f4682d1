"""The upload check reads the file's own metadata, not the upload form."""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

from anya_plugins.registry.uploadcheck import UploadRefused, check_release_file

CONTRACT_KEYWORDS = (
    "anya-extension,anya-category:community/verified,anya-host-api:>=1.0,anya-host-api:<2"
)


def metadata_text(name: str = "anya-ext-demo", keywords: str = CONTRACT_KEYWORDS) -> str:
    return f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.0\nKeywords: {keywords}\n"


def make_wheel(directory: Path, text: str) -> Path:
    path = directory / "anya_ext_demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("anya_ext_demo-1.0.dist-info/METADATA", text)
    return path


def make_sdist(directory: Path, text: str) -> Path:
    path = directory / "anya_ext_demo-1.0.tar.gz"
    data = text.encode()
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("anya_ext_demo-1.0/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return path


def test_contract_wheel_passes_and_its_metadata_is_returned(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, metadata_text())

    metadata = check_release_file(wheel, name="anya_ext_demo", version="1.0")

    assert (metadata.category, metadata.wheel_tags) == ("community/verified", ("py3-none-any",))


def test_contract_sdist_passes(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, metadata_text())

    assert check_release_file(sdist, name="anya-ext-demo", version="1.0").host_api == "<2,>=1.0"


def test_wheel_without_category_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, metadata_text(keywords="anya-extension,anya-host-api:>=1.0"))

    expected = "anya_ext_demo-1.0-py3-none-any.whl breaks the Anya extension contract: "
    expected += "metadata field Keywords: no 'anya-category:' entry"
    with pytest.raises(UploadRefused, match=re.escape(expected)):
        check_release_file(wheel, name="anya-ext-demo", version="1.0")


def test_form_naming_another_project_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, metadata_text())

    with pytest.raises(UploadRefused, match="says project 'requests' but the file's metadata"):
        check_release_file(wheel, name="requests", version="1.0")


def test_form_with_another_version_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, metadata_text())

    with pytest.raises(UploadRefused, match=re.escape("says version '9.0'")):
        check_release_file(wheel, name="anya-ext-demo", version="9.0")


def test_category_the_index_does_not_take_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, metadata_text())

    with pytest.raises(UploadRefused) as raised:
        check_release_file(wheel, name="anya-ext-demo", version="1.0", categories=("core/ml",))

    assert "category 'community/verified' is not accepted" in str(raised.value)
    assert raised.value.hint == "this index takes: core/ml"


def test_other_file_kinds_are_refused(tmp_path: Path) -> None:
    egg = tmp_path / "anya_ext_demo-1.0.egg"
    egg.write_bytes(b"")

    with pytest.raises(UploadRefused, match=r"only wheels \(\.whl\) and sdists"):
        check_release_file(egg, name="anya-ext-demo", version="1.0")


def test_corrupt_sdist_is_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "anya_ext_demo-1.0.tar.gz"
    sdist.write_bytes(b"not gzip")

    with pytest.raises(UploadRefused, match="not a readable sdist"):
        check_release_file(sdist, name="anya-ext-demo", version="1.0")
