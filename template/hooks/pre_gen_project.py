"""Refuse answers that would generate an extension the host or the index would reject.

Cookiecutter renders this file before running it, so the answers arrive as JSON
string literals. The category and reserved-name lists mirror
``anya_plugins.metadata.taxonomy``; the template must also render where
anya-plugins is not installed, so it cannot import them.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

NAME = {{ cookiecutter.name | tojson }}
CATEGORY = {{ cookiecutter.category | tojson }}
HOST_API_MIN = {{ cookiecutter.host_api_min | tojson }}
HOST_API_MAX = {{ cookiecutter.host_api_max | tojson }}
FEATURES = {{ cookiecutter.features | tojson }}
DEFAULT_FEATURES = {{ cookiecutter.default_features | tojson }}

CATEGORIES = (
    "core/bitcoin",
    "core/web5",
    "core/ml",
    "community/verified",
    "community/experimental",
    "enterprise/custody",
    "enterprise/compliance",
    "enterprise/infrastructure",
)
RESERVED_NAMES = frozenset(
    ("host", "trust", "sources", "registry", "cache", "extensions", "install", "audit", "anya",
     "analytics", "metrics")
)
NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
VERSION_PATTERN = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")
ALL_FEATURES = "full"


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def name_problems(name: str) -> list[str]:
    if not NAME_PATTERN.match(name):
        return [
            f"name {name!r} is not valid: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'lightning-watch')"
        ]
    if name in RESERVED_NAMES:
        return [
            f"name {name!r} is reserved for a section of the host's own configuration; "
            f"choose another (reserved: {', '.join(sorted(RESERVED_NAMES))})"
        ]
    return []


def category_problems(category: str) -> list[str]:
    if category in CATEGORIES:
        return []
    return [f"category {category!r} is not known: use one of {', '.join(CATEGORIES)}"]


def host_api_problems(minimum: str, maximum: str) -> list[str]:
    problems = [
        f"{label} {value!r} is not a version such as '1.0' or '2'"
        for label, value in (("host_api_min", minimum), ("host_api_max", maximum))
        if not VERSION_PATTERN.match(value)
    ]
    if not problems and as_release(minimum) >= as_release(maximum):
        problems.append(
            f"host API range is empty: host_api_min {minimum!r} must be lower than "
            f"host_api_max {maximum!r} (the range is >=min,<max)"
        )
    return problems


def as_release(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def feature_problems(features: list[str], default_features: list[str]) -> list[str]:
    problems = [
        f"feature {feature!r} is not a valid extra name: use lower-case letters, digits and '-'"
        for feature in features
        if not NAME_PATTERN.match(feature)
    ]
    duplicates = sorted({feature for feature in features if features.count(feature) > 1})
    if duplicates:
        problems.append(f"features listed more than once: {', '.join(duplicates)}")
    declared = set(features)
    if len(declared) >= 2:
        declared.add(ALL_FEATURES)
    unknown = [feature for feature in default_features if feature not in declared]
    if unknown:
        problems.append(
            f"default feature(s) {', '.join(unknown)} are not among the features "
            f"({', '.join(sorted(declared)) or 'none declared'}): add them to 'features' "
            "or remove them from 'default_features'"
        )
    return problems


def remove_this_copy() -> None:
    """Cookiecutter runs a rendered copy of this hook from the temporary directory and leaves
    it there (cookiecutter/cookiecutter#886): the copy removes itself. The template's own file
    is in hooks/, never there."""
    here = Path(__file__).resolve()
    if here.parent == Path(tempfile.gettempdir()).resolve():
        here.unlink()


def main() -> int:
    remove_this_copy()
    problems = [
        *name_problems(NAME),
        *category_problems(CATEGORY),
        *host_api_problems(HOST_API_MIN, HOST_API_MAX),
        *feature_problems(split_list(FEATURES), split_list(DEFAULT_FEATURES)),
    ]
    if not problems:
        return 0
    print("Cannot create the Anya extension:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
