"""Platform: supported, unsupported with the reason, or emulated (Rosetta 2, qemu-user)."""

from __future__ import annotations

from anya_plugins import Platform

X86_64_MAC = "cp311-cp311-macosx_11_0_x86_64"
ARM64_MAC = "cp311-cp311-macosx_11_0_arm64"
AARCH64_LINUX = "cp311-cp311-manylinux_2_17_aarch64"
X86_64_LINUX = "cp311-cp311-manylinux_2_17_x86_64"


def test_an_x86_64_only_wheel_runs_under_rosetta_on_macos_arm64() -> None:
    mac = Platform("macos", "arm64", emulates=("x86_64",))

    verdict = mac.check([X86_64_MAC])

    assert (verdict.status, verdict.emulator, verdict.runs) == ("emulated", "Rosetta 2", True)
    assert "macos-x86_64" in verdict.reason


def test_without_rosetta_it_is_unsupported_and_says_why() -> None:
    verdict = Platform("macos", "arm64").check([X86_64_MAC])

    assert (verdict.status, verdict.runs) == ("unsupported", False)
    assert "built for macos-x86_64; this is macos-arm64" in verdict.reason


def test_linux_aarch64_runs_under_qemu_user_where_registered() -> None:
    linux = Platform("linux", "x86_64", emulates=("aarch64",))

    assert linux.check([AARCH64_LINUX]).status == "emulated"
    assert linux.check([AARCH64_LINUX]).emulator == "qemu-user"
    assert linux.check([ARM64_MAC]).status == "unsupported"


def test_native_and_pure_wheels_are_supported() -> None:
    linux = Platform("linux", "x86_64", emulates=("aarch64",))

    assert linux.check([X86_64_LINUX, AARCH64_LINUX]).status == "supported"
    assert linux.check_wheel("anya_ext_x-1.0.0-py3-none-any.whl").status == "supported"
    assert Platform("macos", "arm64").check(["cp311-cp311-macosx_11_0_universal2"]).runs


def test_detect_checks_this_interpreters_tags() -> None:
    here = Platform.detect()

    assert here.native and here.check(["py3-none-any"]).status == "supported"
    foreign = here.check(["cp27-cp27m-win32"])
    assert foreign.status == "unsupported" and "built for windows-x86; this is" in foreign.reason
