"""The environment being installed into: its interpreter, directories, tags and installed set."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata as importlib_metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from anya_plugins.errors import AnyaError
from anya_plugins.metadata.core_headers import name_and_version

_PROBE = """
import json, sys, sysconfig
paths = sysconfig.get_paths()
try:
    from packaging.tags import sys_tags
except ImportError:
    from pip._vendor.packaging.tags import sys_tags
print(json.dumps({"prefix": sys.prefix, "purelib": paths["purelib"], "platlib": paths["platlib"],
                  "scripts": paths["scripts"], "tags": [str(t) for t in sys_tags()]}))
"""


_PROBED: dict[Path, tuple[tuple[object, ...], TargetEnvironment]] = {}
"""The environments this process inspected, with what identified each interpreter then."""


def _identity(interpreter: Path) -> tuple[object, ...]:
    """What changes when the interpreter at this path is replaced: the file it resolves to
    (a venv's ``python`` is a link to its base) and the venv's ``pyvenv.cfg`` beside it."""
    identity: list[object] = [str(interpreter.resolve())]
    for path in (interpreter, interpreter.parent.parent / "pyvenv.cfg"):
        try:
            stat = path.stat()
        except OSError:
            identity.append(None)
            continue
        identity.append((stat.st_ino, stat.st_mtime_ns, stat.st_size))
    return tuple(identity)


class TargetEnvironmentError(AnyaError):
    """The target interpreter cannot be inspected."""

    exit_code = 10


@dataclass(frozen=True)
class TargetEnvironment:
    """A Python environment seen from outside: where things go and what is there."""

    python: Path
    prefix: Path
    purelib: Path
    platlib: Path
    scripts: Path
    tags: tuple[str, ...]

    @classmethod
    def of(cls, python: Path | None = None) -> TargetEnvironment:
        """Inspect ``python`` (default: this interpreter; another one by running it once per
        process, again only when the interpreter or its venv's ``pyvenv.cfg`` changed)."""
        interpreter = Path(python or sys.executable)
        if python is None or interpreter == Path(sys.executable):
            return cls._here(interpreter)
        identity = _identity(interpreter)
        known = _PROBED.get(interpreter)
        if known is not None and known[0] == identity:
            return known[1]
        found = cls._venv_of_this_python(interpreter) or cls._probe(interpreter)
        _PROBED[interpreter] = (identity, found)
        return found

    @classmethod
    def _venv_of_this_python(cls, interpreter: Path) -> TargetEnvironment | None:
        """A venv made from the very Python running this (``pyvenv.cfg`` names its directory
        and version), told without running it: its paths are the ``venv`` scheme under the
        venv's root, its tags this interpreter's. None when that is not certain."""
        import platform
        import sysconfig

        root = interpreter.parent.parent
        try:
            lines = (root / "pyvenv.cfg").read_text().splitlines()
        except OSError:
            return None
        config = {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in lines)}
        base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
        # uv writes version_info = 3.11.7, virtualenv 3.11.7.final.0, venv version = 3.11.7
        version = config.get("version_info") or config.get("version")
        running = sys.version_info
        long_version = ".".join(map(str, running[:5]))
        if (
            "venv" not in sysconfig.get_scheme_names()
            or root.resolve() != root
            or interpreter.resolve() != base
            or Path(config.get("home", "")).resolve() != base.parent
            or version not in (platform.python_version(), long_version)
        ):
            return None
        from packaging.tags import sys_tags

        paths = sysconfig.get_paths("venv", vars={"base": str(root), "platbase": str(root)})
        return cls(
            python=interpreter,
            prefix=root,
            purelib=Path(paths["purelib"]),
            platlib=Path(paths["platlib"]),
            scripts=Path(paths["scripts"]),
            tags=tuple(str(tag) for tag in sys_tags()),
        )

    @classmethod
    def _probe(cls, interpreter: Path) -> TargetEnvironment:
        try:
            done = subprocess.run(
                [str(interpreter), "-c", _PROBE], capture_output=True, text=True, check=True
            )
            found = json.loads(done.stdout)
        except (OSError, subprocess.CalledProcessError, ValueError) as error:
            raise TargetEnvironmentError(
                f"cannot inspect the Python environment of {interpreter}: {error}"
            ) from error
        return cls(
            python=interpreter,
            prefix=Path(found["prefix"]),
            purelib=Path(found["purelib"]),
            platlib=Path(found["platlib"]),
            scripts=Path(found["scripts"]),
            tags=tuple(found["tags"]),
        )

    @classmethod
    def _here(cls, interpreter: Path) -> TargetEnvironment:
        import sysconfig

        from packaging.tags import sys_tags

        paths = sysconfig.get_paths()
        return cls(
            python=interpreter,
            prefix=Path(sys.prefix),
            purelib=Path(paths["purelib"]),
            platlib=Path(paths["platlib"]),
            scripts=Path(paths["scripts"]),
            tags=tuple(str(tag) for tag in sys_tags()),
        )

    @property
    def library_dirs(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys((self.purelib, self.platlib)))

    @cached_property
    def tag_priority(self) -> dict[str, int]:
        """Lower is better, as the interpreter orders its supported tags."""
        return {tag: index for index, tag in enumerate(self.tags)}

    def installed(self) -> dict[str, importlib_metadata.Distribution]:
        """Installed distributions by canonical name (first on the path wins)."""
        return {name: dist for name, (dist, _version) in self.inventory().items()}

    def installed_versions(self) -> dict[str, str]:
        """The version of each installed distribution, by canonical name."""
        return {name: version for name, (_dist, version) in self.inventory().items()}

    def inventory(self) -> dict[str, tuple[importlib_metadata.Distribution, str]]:
        """Each installed distribution and its version, by canonical name, read without the
        email parser (the cost of this grows with the environment)."""
        found: dict[str, tuple[importlib_metadata.Distribution, str]] = {}
        for dist in importlib_metadata.distributions(path=[str(p) for p in self.library_dirs]):
            name, version = name_and_version(dist)
            found.setdefault(str(canonicalize_name(name)), (dist, version))
        return found
