"""The public API: exported from ``anya_plugins``, loaded on first use, typed without ``Any``."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from typing import Any

import pytest

import anya_plugins
from anya_plugins.metadata.frozen import Frozen

API_NAMES = [name for name, module in anya_plugins._EXPORTS.items() if ".api." in module]


def test_import_anya_plugins_loads_none_of_the_api() -> None:
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, anya_plugins; print(sorted(m for m in sys.modules if 'anya' in m))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert done.stdout.strip() == "['anya_plugins']"


def test_every_api_name_is_in_all_and_loads() -> None:
    assert set(API_NAMES) <= set(anya_plugins.__all__)
    for name in API_NAMES:
        assert getattr(anya_plugins, name).__name__ == name


def test_no_any_crosses_the_boundary() -> None:
    """Every field of the API's dataclasses and every parameter and return of its methods."""
    annotations: list[tuple[str, str]] = []
    for name in API_NAMES:
        value = getattr(anya_plugins, name)
        if not inspect.isclass(value):
            continue
        if dataclasses.is_dataclass(value):
            annotations += [(f"{name}.{f.name}", str(f.type)) for f in dataclasses.fields(value)]
        if issubclass(value, Frozen):
            annotations += [
                (f"{name}.{field}", str(text)) for field, text in value.__annotations__.items()
            ]
        for method_name, method in inspect.getmembers(value, inspect.isfunction):
            if method_name.startswith("_") and method_name != "__init__":
                continue
            for parameter, annotation in method.__annotations__.items():
                annotations.append((f"{name}.{method_name}:{parameter}", str(annotation)))

    assert len(annotations) > 100
    assert [where for where, text in annotations if "Any" in text.replace("AnyaError", "")] == []


def test_frozen_options_and_results() -> None:
    """Frozen dataclasses, or on a command's start-up path Frozen records (no dataclasses
    import there)."""
    frozen = ("Configuration", "ConfigItem", "Signing", "InstallOptions", "InstallReport",
              "PackageChange", "Resolution", "Conflict", "FileVerification", "Compatibility",
              "Platform", "RegistryUpOptions", "RegistryState", "RegistryAccount")  # fmt: skip
    for name in frozen:
        cls: Any = getattr(anya_plugins, name)
        assert (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen) or issubclass(
            cls, Frozen
        ), name


def test_a_frozen_configuration_is_copied_with_changes() -> None:
    configuration = anya_plugins.Configuration(values={"host.disabled": ["a"]})
    changed = configuration.with_values({"sources.timeout": 5})

    assert changed.values == {"host.disabled": ["a"], "sources.timeout": 5}
    assert configuration.values == {"host.disabled": ["a"]}
    assert changed == anya_plugins.Configuration(values=changed.values)
    assert changed.replace(values=configuration.values) == configuration
    with pytest.raises(AttributeError, match="cannot assign to field 'values'"):
        configuration.values = {}
    with pytest.raises(TypeError, match="Configuration has no field colour"):
        configuration.replace(colour="red")
