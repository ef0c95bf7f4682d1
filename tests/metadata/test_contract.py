"""The contract read from core metadata text, as an index or a wheel carries it."""

from __future__ import annotations

import pytest

from anya_plugins.errors import MetadataError
from anya_plugins.metadata.contract import parse_metadata_text

KEYWORDS = ",".join(
    (
        "anya-extension",
        "anya-category:core/bitcoin",
        "anya-host-api:>=1.0",
        "anya-host-api:<2",
        "anya-default-feature:metrics",
    )
)

GOOD = f"""\
Metadata-Version: 2.4
Name: anya-ext-lightning
Version: 1.2.0
Summary: Lightning channels for Anya
Keywords: {KEYWORDS}
Provides-Extra: full
Provides-Extra: metrics
Provides-Extra: tor
Requires-Dist: anya-plugins>=0.1
Requires-Dist: anya-ext-lightning[metrics,tor]; extra == 'full'
Requires-Dist: prometheus-client>=0.20; extra == 'metrics'
Requires-Dist: stem; extra == 'tor'
"""


def _with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


def test_reads_category_host_api_and_summary() -> None:
    contract = parse_metadata_text("lightning", GOOD, ["py3-none-any"])
    assert contract.category == "core/bitcoin"
    assert contract.host_api == "<2,>=1.0"
    assert contract.summary == "Lightning channels for Anya"
    assert contract.platforms == ("pure",)


def test_features_carry_requirements_defaults_and_what_they_enable() -> None:
    features = {f.name: f for f in parse_metadata_text("lightning", GOOD).features}
    assert set(features) == {"full", "metrics", "tor"}
    assert features["metrics"].requires == ("prometheus-client>=0.20",)
    assert features["metrics"].default is True
    assert features["full"].enables == ("metrics", "tor")
    assert features["full"].requires == ()
    assert features["tor"].default is False


def test_missing_category_names_the_extension_and_the_field() -> None:
    with pytest.raises(MetadataError) as caught:
        parse_metadata_text("lightning", _with("anya-category:core/bitcoin,", ""))
    assert caught.value.extension == "lightning"
    assert caught.value.field == "Keywords"
    assert "anya-category:" in caught.value.message
    assert caught.value.hint is not None and "core/web5" in caught.value.hint


def test_unknown_category_is_refused() -> None:
    with pytest.raises(MetadataError, match="unknown category 'core/doge'"):
        parse_metadata_text("lightning", _with("core/bitcoin", "core/doge"))


def test_two_categories_are_refused() -> None:
    text = _with("anya-category:core/bitcoin", "anya-category:core/bitcoin,anya-category:core/ml")
    with pytest.raises(MetadataError, match="more than one category"):
        parse_metadata_text("lightning", text)


def test_missing_host_api_range_is_refused() -> None:
    text = _with("anya-host-api:>=1.0,anya-host-api:<2,", "")
    with pytest.raises(MetadataError, match="no 'anya-host-api:' entry"):
        parse_metadata_text("lightning", text)


def test_invalid_host_api_range_is_refused() -> None:
    with pytest.raises(MetadataError, match="invalid host API range"):
        parse_metadata_text("lightning", _with("anya-host-api:<2", "anya-host-api:<<2"))


def test_default_feature_that_is_not_an_extra_is_refused() -> None:
    text = _with("anya-default-feature:metrics", "anya-default-feature:zmq")
    with pytest.raises(MetadataError, match="default feature\\(s\\) zmq are not declared"):
        parse_metadata_text("lightning", text)


def test_feature_enabling_an_undeclared_feature_is_refused() -> None:
    text = _with("anya-ext-lightning[metrics,tor]", "anya-ext-lightning[metrics,i2p]")
    with pytest.raises(MetadataError, match="enables undeclared feature\\(s\\) i2p"):
        parse_metadata_text("lightning", text)


def test_missing_version_names_the_field() -> None:
    with pytest.raises(MetadataError) as caught:
        parse_metadata_text("lightning", _with("Version: 1.2.0\n", ""))
    assert caught.value.field == "Version"


def test_broken_requirement_names_the_field() -> None:
    with pytest.raises(MetadataError) as caught:
        parse_metadata_text("lightning", _with("stem;", "stem >>> 1;"))
    assert caught.value.field == "Requires-Dist"
