"""What any hook implementation raises is contained (its extension failed, the others still
answer), whatever its parameters look like; in-process, over extensions installed into a
directory."""

from __future__ import annotations

import sys
from pathlib import Path

from anya_plugins import Host, hookspec
from anya_plugins.host.record import ACTIVE, FAILED
from tests.host.conftest import Install

IMPORT = "from anya_plugins import hookimpl\n\n"


def _hook(signature: str, body: str) -> str:
    """A module with one hook implementation."""
    return f"{IMPORT}@hookimpl\ndef {signature}:\n    {body}\n"


class AppSpecs:
    """An application's own hooks, as ``Host(hookspecs=...)`` takes them."""

    @hookspec
    def app_compute(self, value: int, scale: int) -> int:  # type: ignore[empty-body]
        """Return a number made from ``value`` and ``scale``."""


def _host(site: Path) -> Host:
    host = Host(path=[str(site)], use_cache=False, hookspecs=[AppSpecs])
    host.activate_all()
    return host


def test_a_raising_implementation_is_contained_and_the_others_answer(
    site: Path, install: Install
) -> None:
    install("good", _hook("app_compute(value, scale)", "return value * scale"))
    install("boom", _hook("app_compute(value, scale)", "raise ValueError('no')"))
    host = _host(site)

    assert host.hook.app_compute(value=2, scale=3) == [6]
    boom = host.get("boom")
    assert boom.status == FAILED
    assert "hook app_compute: ValueError: no" in boom.error
    assert [failure.extension for failure in host.failures] == ["boom"]
    assert host.hook.app_compute(value=1, scale=1) == [1]
    assert len(host.failures) == 1, "a failed extension is not called again"


def test_an_implementation_taking_fewer_arguments_gets_only_those(
    site: Path, install: Install
) -> None:
    install("fewer", """
        from anya_plugins import hookimpl

        ACTIVATED = []

        @hookimpl
        def anya_activate():
            ACTIVATED.append(True)

        @hookimpl
        def app_compute(scale):
            return scale
    """)  # fmt: skip
    host = _host(site)

    assert host.get("fewer").status == ACTIVE
    assert sys.modules["guard_fewer"].ACTIVATED == [True]
    assert host.hook.app_compute(value=2, scale=5) == [5]


def test_an_implementation_with_a_default_is_called_and_contained(
    site: Path, install: Install
) -> None:
    install("default", """
        from anya_plugins import hookimpl

        @hookimpl
        def app_compute(value, scale=10):
            if value < 0:
                raise RuntimeError("negative")
            return value * scale
    """)  # fmt: skip
    host = _host(site)

    assert host.hook.app_compute(value=2, scale=3) == [6]
    assert host.hook.app_compute(value=-1, scale=3) == []
    assert host.get("default").status == FAILED
    assert "RuntimeError: negative" in host.get("default").error


def test_a_class_entry_point_has_its_methods_called_and_contained(
    site: Path, install: Install
) -> None:
    install("klass", """
        from anya_plugins import hookimpl

        class Plugin:
            def __init__(self):
                self.scale = 7

            @hookimpl
            def app_compute(self, value):
                if value == 0:
                    raise ZeroDivisionError("zero")
                return value * self.scale
    """)  # fmt: skip
    (site / "anya_ext_guard_klass-1.0.dist-info" / "entry_points.txt").write_text(
        "[anya.extensions]\nklass = guard_klass:Plugin\n"
    )
    host = _host(site)

    assert host.hook.app_compute(value=2, scale=0) == [14]
    assert host.hook.app_compute(value=0, scale=0) == []
    assert host.get("klass").status == FAILED


def test_a_lifecycle_hook_raising_fails_only_its_extension(site: Path, install: Install) -> None:
    install("good", _hook("app_compute(value, scale)", "return value"))
    install("bad", _hook("anya_activate(context)", "raise SystemExit(3)"))
    host = _host(site)

    assert host.get("good").status == ACTIVE
    assert host.get("bad").status == FAILED
    assert "activate" in host.get("bad").error
    assert host.hook.app_compute(value=4, scale=1) == [4]


def test_host_hook_after_a_deactivation_activates_every_extension_again(
    site: Path, install: Install
) -> None:
    install("first", _hook("app_compute(value, scale)", "return value + scale"))
    install("second", _hook("app_compute(value, scale)", "return value * scale"))
    host = Host(path=[str(site)], use_cache=False, hookspecs=[AppSpecs])

    assert sorted(host.hook.app_compute(value=2, scale=3)) == [5, 6]  # activates on first use
    host.deactivate("second")
    assert host.get("second").status != ACTIVE
    assert sorted(host.hook.app_compute(value=2, scale=3)) == [5, 6]
    assert host.get("second").status == ACTIVE
