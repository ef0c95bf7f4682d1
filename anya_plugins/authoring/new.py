"""``anya-ext new``: render the cookiecutter template into a ready-to-build extension project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.errors import TemplateError, UsageError
from anya_plugins.metadata.taxonomy import CATEGORIES, DIST_NAME_PREFIX, RESERVED_NAMES

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class NewProject:
    """Where the project was written and what it is called."""

    path: Path
    distribution: str
    package: str
    category: str


def template_dir() -> Path:
    """The template shipped inside the wheel, or ``template/`` of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_template", here.parent / "template"):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise TemplateError(
        "the extension template is missing from this installation",
        hint="reinstall anya-plugins",
    )


def new_extension(
    name: str,
    category: str,
    *,
    output_dir: Path,
    description: str = "An Anya extension.",
    features: tuple[str, ...] = ("metrics",),
    default_features: tuple[str, ...] = (),
    author: str = "Anya Developer",
    email: str = "dev@example.org",
    dependencies: tuple[str, ...] = (),
    compiled: bool = False,
) -> NewProject:
    """Generate ``anya-ext-<name>`` in ``output_dir``; refuse bad names and unknown categories.

    ``dependencies`` are PEP 508 requirements besides anya-plugins. ``compiled``: the variant
    with a C extension module (``setup.py``), whose release workflow builds platform wheels
    with cibuildwheel.
    """
    if not _NAME.match(name) or name in RESERVED_NAMES:
        raise UsageError(
            f"invalid extension name {name!r}",
            hint="use lower-case letters, digits and '-', e.g. lightning-watch",
        )
    if category not in CATEGORIES:
        raise UsageError(
            f"unknown category {category!r}", hint=f"use one of: {', '.join(CATEGORIES)}"
        )
    unknown = sorted(set(default_features) - set(features))
    if unknown:
        raise UsageError(f"default feature(s) {', '.join(unknown)} are not among the features")
    _check_dependencies(dependencies)
    _check_author(author, email)
    target = output_dir / f"{DIST_NAME_PREFIX}{name}"
    if target.exists():
        raise UsageError(f"{target} already exists", hint="choose another name or --output-dir")

    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    try:
        written = cookiecutter(
            str(template_dir()),
            no_input=True,
            output_dir=str(output_dir),
            extra_context={
                "name": name,
                "category": category,
                "description": description,
                "features": ",".join(features),
                "default_features": ",".join(default_features),
                "author": author,
                "email": email,
                "dependencies": "\n".join(dependencies),
                "compiled": "yes" if compiled else "no",
            },
        )
    except CookiecutterException as error:
        raise TemplateError(f"the template could not be rendered: {error}") from error
    return NewProject(
        path=Path(written),
        distribution=f"{DIST_NAME_PREFIX}{name}",
        package=f"anya_ext_{name.replace('-', '_')}",
        category=category,
    )


def _check_dependencies(dependencies: tuple[str, ...]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    for dependency in dependencies:
        try:
            Requirement(dependency)
        except InvalidRequirement as error:
            raise UsageError(
                f"--dependency {dependency!r} is not a requirement: {error}",
                hint="a PEP 508 requirement, e.g. --dependency 'httpx>=0.27'",
            ) from error


def _check_author(author: str, email: str) -> None:
    if not author.strip():
        raise UsageError("--author is empty", hint="e.g. --author 'Ada Lovelace'")
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in email):
        raise UsageError(
            f"--email {email!r} is not an e-mail address", hint="e.g. --email ada@example.org"
        )
