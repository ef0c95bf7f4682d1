"""PEP 503 names (and PEP 685 extras, normalised the same way) without importing re or
packaging: the host's listing and the features column normalise names on every start-up."""


def canonical(name: str) -> str:
    """``packaging.utils.canonicalize_name`` as a string: lower case, runs of ``-_.`` as one
    ``-``."""
    name = name.lower().replace("_", "-").replace(".", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name
