"""Trim the generated project to the variant asked for, and leave no byte-code behind.

Cookiecutter renders this file before running it in the new project's directory. Without
compiled parts the C source and setup.py go. An installed template may hold ``__pycache__``
directories (pip compiles every ``.py`` file it installs, the template's own included), which
cookiecutter would copy: they go too.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

COMPILED = {{ cookiecutter.compiled | tojson }} == "yes"
PACKAGE = {{ cookiecutter.__package_name | tojson }}


def remove_this_copy() -> None:
    """Cookiecutter runs a rendered copy of this hook from the temporary directory and leaves
    it there (cookiecutter/cookiecutter#886): the copy removes itself. The template's own file
    is in hooks/, never there."""
    here = Path(__file__).resolve()
    if here.parent == Path(tempfile.gettempdir()).resolve():
        here.unlink()


def main() -> None:
    remove_this_copy()
    project = Path.cwd()
    if not COMPILED:
        (project / "setup.py").unlink()
        (project / "src" / PACKAGE / "_native.c").unlink()
    for cache in sorted(project.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


if __name__ == "__main__":
    main()
