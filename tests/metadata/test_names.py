"""Our import-free PEP 503 normalisation gives what packaging's does."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name

from anya_plugins.metadata.names import canonical


@pytest.mark.parametrize(
    "name",
    ["anya-ext-hello", "Anya_Ext.Hello", "a--b__c..d", "a-_.-b", "-lead", "trail_", "MiXeD", "x"],
)
def test_canonical_is_packaging_canonicalize_name(name: str) -> None:
    assert canonical(name) == str(canonicalize_name(name))
