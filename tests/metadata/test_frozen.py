"""Frozen records behave as frozen dataclasses do, without importing dataclasses."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import pytest

from anya_plugins.metadata.frozen import Frozen


class Point(Frozen):
    x: int
    y: tuple[str, ...]

    def __init__(self, x: int, y: tuple[str, ...] = ()) -> None:
        self._init(x, y)


def test_fields_are_the_annotations_in_order() -> None:
    assert Point(1, ("a",)).fields() == {"x": 1, "y": ("a",)}
    assert list(Point(1).fields()) == ["x", "y"]


def test_fields_cannot_be_set_or_deleted() -> None:
    point = Point(1)
    with pytest.raises(AttributeError, match="frozen Point"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen Point"):
        del point.x
    with pytest.raises(AttributeError):
        point.z = 3  # type: ignore[attr-defined]
    assert point.x == 1


def test_equal_and_hashed_by_value_and_class() -> None:
    class Other(Point):
        pass

    assert Point(1, ("a",)) == Point(1, ("a",))
    assert Point(1) != Point(2)
    assert Point(1) != Other(1)
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_repr_lists_the_fields() -> None:
    assert repr(Point(1, ("a",))) == "Point(x=1, y=('a',))"


def test_copied_and_pickled() -> None:
    point = Point(1, ("a",))

    assert copy.copy(point) == copy.deepcopy(point) == pickle.loads(pickle.dumps(point)) == point


def test_too_few_values_is_an_error() -> None:
    class Broken(Frozen):
        a: int
        b: int

        def __init__(self, a: int) -> None:
            self._init(a)

    with pytest.raises(ValueError, match="zip"):
        Broken(1)


def test_importing_it_imports_neither_dataclasses_nor_typing() -> None:
    code = (
        "import sys, anya_plugins.metadata.frozen\n"
        "print('dataclasses' in sys.modules, 'typing' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.split() == ["False", "False"]


def test_a_record_setting_its_fields_itself_sets_each_once_in_order() -> None:
    """ExtensionReport sets its fields with one dict display, not ``_init`` (a thousand are
    made per ``list``): the same names as declared, in that order, each given its value."""
    from anya_plugins.host.inventory import ExtensionReport

    values = tuple(f"value {i}" for i in range(len(ExtensionReport._fields)))
    report = ExtensionReport(*values)  # type: ignore[arg-type]
    assert list(report.fields().items()) == list(zip(ExtensionReport._fields, values, strict=True))
    assert pickle.loads(pickle.dumps(report)) == report
