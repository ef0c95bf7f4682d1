# mypy: disallow-untyped-calls=False
# (devpi-server's entry functions are untyped.)
"""Fill existing indexes of a stopped registry with synthetic extensions, through devpi's model.

``python -m tests.registry.populate SERVERDIR USER/INDEX=COUNT ...`` registers COUNT projects
on each index, one write transaction per index, as a ``twine upload`` form would describe
them (metadata only, no files: search reads nothing else). Seconds instead of the minutes
ten thousand uploads would take; for the search benchmark.
"""

from __future__ import annotations

import sys

from anya_plugins.metadata.taxonomy import CATEGORIES

_TOPICS = ("wallet", "oracle", "custody", "lightning", "inference", "ledger", "bridge", "audit")
_VERBS = ("Signs", "Indexes", "Monitors", "Routes", "Verifies", "Caches", "Streams")


def synthetic_metadata(number: int) -> dict[str, str]:
    """Project ``number``: a name, a summary and keywords that vary the way real ones do."""
    topic = _TOPICS[number % len(_TOPICS)]
    other = _TOPICS[(number // len(_TOPICS)) % len(_TOPICS)]
    category = CATEGORIES[number % len(CATEGORIES)]
    keywords = (
        topic,
        f"{other}-{number % 97}",
        "anya-extension",
        f"anya-category:{category}",
        "anya-host-api:>=1.0",
        "anya-host-api:<2",
    )
    return {
        "name": f"anya-ext-{topic}-{number:05d}",
        "version": f"1.{number % 10}.0",
        "summary": f"{_VERBS[number % len(_VERBS)]} {other} events for {topic} services",
        "keywords": ",".join(keywords),
    }


def populate(serverdir: str, counts: dict[str, int]) -> None:
    from devpi_server.config import parseoptions
    from devpi_server.main import xom_from_config

    from anya_plugins.registry.launch import plugin_manager

    config = parseoptions(plugin_manager(), ["devpi-server", "--serverdir", serverdir])
    xom = xom_from_config(config)
    for name, count in counts.items():
        with xom.keyfs.write_transaction():
            stage = xom.model.getstage(name)
            if stage is None:
                raise SystemExit(f"no index {name} in {serverdir}")
            for number in range(count):
                stage.set_versiondata(synthetic_metadata(number))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    counts = {}
    for spec in argv[1:]:
        index, _, count = spec.partition("=")
        counts[index] = int(count)
    populate(argv[0], counts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
