"""Platform detection, and whether an extension's wheels run here: supported, unsupported
(with the reason), or emulated (an x86_64-only wheel on macOS arm64 under Rosetta 2, a
linux-aarch64 one under qemu-user)."""

from __future__ import annotations

import platform as _platform
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Status = Literal["supported", "unsupported", "emulated"]

ROSETTA = Path("/Library/Apple/usr/share/rosetta/rosetta")
BINFMT_MISC = Path("/proc/sys/fs/binfmt_misc")
_EMULATOR_BY_SYSTEM = {"macos": "Rosetta 2", "linux": "qemu-user"}
_MACHINES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}


@dataclass(frozen=True)
class Compatibility:
    """Whether something runs on a platform: ``supported``, ``unsupported`` (``reason`` says
    why) or ``emulated`` (it runs through ``emulator``, more slowly)."""

    status: Status
    reason: str = ""
    emulator: str | None = None

    @property
    def runs(self) -> bool:
        """True when it runs at all, natively or emulated."""
        return self.status != "unsupported"


@dataclass(frozen=True)
class Platform:
    """An operating system and machine, as wheel platform names spell them
    (``linux-x86_64``, ``macos-arm64``, ``windows-x86_64``), and the machines it can emulate.

    :meth:`detect` describes this interpreter and also checks the Python tags of a wheel;
    a Platform built by hand (say, a deployment target) compares platforms only.
    """

    system: str
    machine: str
    emulates: tuple[str, ...] = ()
    """Machines whose binaries run here under emulation (``x86_64`` with Rosetta 2 on macOS
    arm64; the architectures registered with qemu-user in binfmt_misc on Linux)."""
    native: bool = False
    """Whether this is the running interpreter's platform (set by :meth:`detect`)."""

    @property
    def name(self) -> str:
        return f"{self.system}-{self.machine}"

    @classmethod
    def detect(cls) -> Platform:
        """This interpreter's platform, with the emulators installed here."""
        system = {"darwin": "macos"}.get(_platform.system().lower(), _platform.system().lower())
        raw = _platform.machine().lower()
        machine = _MACHINES.get(raw, raw)
        if system == "linux" and machine == "arm64":
            machine = "aarch64"
        if system == "macos" and machine == "aarch64":
            machine = "arm64"
        return cls(system, machine, _emulated_here(system, machine), native=True)

    def check_wheel(self, filename: str) -> Compatibility:
        """Whether the wheel file named ``filename`` runs here."""
        from anya_plugins.metadata.platforms import tags_from_wheel_filename

        return self.check(tags_from_wheel_filename(filename))

    def check(self, tags: Iterable[str]) -> Compatibility:
        """Whether any of the wheel tags (``cp311-cp311-manylinux_2_17_x86_64``,
        ``py3-none-any``...) runs here; an empty set (built from source) fits."""
        from anya_plugins.metadata.platforms import PURE, check_tags, platform_names

        wanted = tuple(tags)
        if self.native:
            verdict = check_tags(wanted)
            if verdict.ok:
                return Compatibility("supported")
        names = platform_names(wanted)
        if not wanted or PURE in names or self.name in names:
            if self.native:
                return Compatibility("unsupported", verdict.reason)
            return Compatibility("supported")
        for machine in self.emulates:
            if f"{self.system}-{machine}" in names:
                emulator = _EMULATOR_BY_SYSTEM.get(self.system, "an emulator")
                return Compatibility(
                    "emulated",
                    f"built for {self.system}-{machine} only; runs on {self.name} under {emulator}",
                    emulator,
                )
        built = ", ".join(names)
        hint = ""
        if self.system in _EMULATOR_BY_SYSTEM and any(n.startswith(self.system) for n in names):
            hint = f" (no {_EMULATOR_BY_SYSTEM[self.system]} for those machines here)"
        return Compatibility("unsupported", f"built for {built}; this is {self.name}{hint}")


def _emulated_here(system: str, machine: str) -> tuple[str, ...]:
    if system == "macos" and machine == "arm64":
        return ("x86_64",) if ROSETTA.exists() else ()
    if system == "linux":
        return tuple(
            arch
            for arch in ("aarch64", "x86_64", "arm", "ppc64le", "s390x", "riscv64")
            if arch != machine and _binfmt_enabled(BINFMT_MISC / f"qemu-{arch}")
        )
    return ()


def _binfmt_enabled(entry: Path) -> bool:
    try:
        return entry.read_text().startswith("enabled")
    except OSError:
        return False
