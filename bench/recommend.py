"""Recommendations measured offline: hit rate at 10 on generated co-installation data, against
recommending the most installed extensions (the popularity baseline).

The generated world (seeded, so every run sees the same one): :data:`EXTENSIONS` extensions
in the eight categories, each with a popularity (Zipf); :data:`BUNDLES` groups of extensions
that go together (a wallet and its lightning node: 3 to 6 extensions, mostly of one
category); :data:`INSTALLATIONS` installations, each taking one or two bundles (popular
bundles more often) and keeping each of their extensions with probability 0.7, plus up to
three extensions picked by popularity alone.

Four fifths of the installations are the opted-in clients whose co-installations the registry
aggregates (with its minimum group size, as ``/+analytics/coinstalls`` does). For each of the
others holding at least two extensions one extension is hidden; a method scores a hit when
the hidden one is among its ten recommendations for the rest. The scorer is
:func:`anya_plugins.registry.recommend.recommend` as ``anya-ext recommend`` calls it,
without ratings (the hub's are not generated here). A cold start (nothing installed) is
measured too: there the scorer can only rank by popularity.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations

from anya_plugins.metadata.taxonomy import CATEGORIES, HOST_API_VERSION
from anya_plugins.registry.analytics_store import MIN_GROUP
from anya_plugins.registry.recommend import Candidate, CoInstallCounts, Profile, recommend
from bench.options import Options, log
from bench.report import Row, Section, Target

TITLE = "Recommendations: hit rate at 10, offline"
EXTENSIONS = 120
BUNDLES = 30
INSTALLATIONS = 5000
QUICK_INSTALLATIONS = 600
TRAIN_SHARE = 0.8
K = 10
SEED = 12
OURS = "anya-ext recommend (co-installations)"
BASELINE = "most installed (popularity)"


def run(options: Options) -> Section:
    installations = QUICK_INSTALLATIONS if options.quick else INSTALLATIONS
    chance = random.Random(SEED)
    names = [f"ext-{n:03d}" for n in range(EXTENSIONS)]
    catalog = [Candidate(name, CATEGORIES[n % len(CATEGORIES)], "", ("pure",))
               for n, name in enumerate(names)]  # fmt: skip
    bundles = _bundles(random.Random(SEED + 1), names)
    world = [_installation(chance, names, bundles) for _ in range(installations)]
    cut = int(len(world) * TRAIN_SHARE)
    counts = _counts(world[:cut])
    tests = [_held_out(chance, held) for held in world[cut:] if len(held) >= 2]
    log(f"recommend: {len(world)} installations, {len(tests)} held out")

    started = time.process_time()
    ours = _hit_rate(tests, lambda rest: _ours(rest, catalog, counts))
    per_call_ms = (time.process_time() - started) / max(1, len(tests)) * 1000
    popular = _hit_rate(tests, lambda rest: _most_installed(rest, counts))
    cold_ours = _share(_ours(frozenset(), catalog, counts), [hidden for _, hidden in tests])
    cold_popular = _share(_most_installed(frozenset(), counts), [hidden for _, hidden in tests])
    rows = (
        Row("held-out extension, profile = the rest", OURS, ours * 100, "%",
            ours / popular if popular else None),
        Row("held-out extension, profile = the rest", BASELINE, popular * 100, "%", 1.0),
        Row("cold start (nothing installed)", OURS, cold_ours * 100, "%",
            cold_ours / cold_popular if cold_popular else None),
        Row("cold start (nothing installed)", BASELINE, cold_popular * 100, "%", 1.0),
        Row("one recommendation", OURS, per_call_ms, "ms CPU",
            detail=f"{EXTENSIONS} candidates"),
    )  # fmt: skip
    return Section(
        "recommend",
        TITLE,
        BASELINE,
        rows,
        (
            Target(
                "hit rate at 10 above the popularity baseline",
                f"{ours:.1%} vs {popular:.1%}",
                ours > popular,
            ),
        ),
        (
            f"{len(world)} generated installations ({EXTENSIONS} extensions, {BUNDLES} bundles, "
            f"seed {SEED}); co-installation counts from {cut} of them, pairs and extensions "
            f"held by fewer than {MIN_GROUP} left out as the registry does; {len(tests)} "
            "held-out extensions.",
            "A hit: the hidden extension is among the ten recommended for the rest of its "
            "installation. No ratings in either method.",
        ),
    )


def _bundles(chance: random.Random, names: Sequence[str]) -> list[list[str]]:
    """Extensions that go together: mostly of one category, sometimes one from elsewhere."""
    groups = len(CATEGORIES)
    bundles = []
    for number in range(BUNDLES):
        home = number % groups
        members = [names[home + groups * chance.randrange(len(names) // groups)]
                   for _ in range(chance.randint(3, 6))]  # fmt: skip
        if chance.random() < 0.3:
            members.append(chance.choice(names))
        bundles.append(members)
    return bundles


def _installation(
    chance: random.Random, names: Sequence[str], bundles: Sequence[list[str]]
) -> frozenset[str]:
    bundle_weights = [1 / (rank + 1) for rank in range(BUNDLES)]
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(names))]
    held: set[str] = set()
    for bundle in chance.choices(bundles, bundle_weights, k=chance.randint(1, 2)):
        held.update(name for name in bundle if chance.random() < 0.7)
    held.update(chance.choices(names, popularity, k=chance.randint(0, 3)))
    return frozenset(held)


def _counts(world: Sequence[frozenset[str]]) -> CoInstallCounts:
    singles: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for held in world:
        singles.update(held)
        pairs.update(combinations(sorted(held), 2))
    return CoInstallCounts(
        {name: n for name, n in singles.items() if n >= MIN_GROUP},
        {pair: n for pair, n in pairs.items() if n >= MIN_GROUP},
    )


def _held_out(chance: random.Random, held: frozenset[str]) -> tuple[frozenset[str], str]:
    hidden = chance.choice(sorted(held))
    return held - {hidden}, hidden


def _ours(rest: frozenset[str], catalog: Sequence[Candidate], counts: CoInstallCounts) -> list[str]:
    profile = Profile(rest, "linux-x86_64", HOST_API_VERSION)
    return [r.name for r in recommend(profile, catalog, counts, limit=K)]


def _most_installed(rest: frozenset[str], counts: CoInstallCounts) -> list[str]:
    ranked = sorted(counts.installations, key=lambda n: (-counts.installations[n], n))
    return [name for name in ranked if name not in rest][:K]


def _hit_rate(
    tests: Sequence[tuple[frozenset[str], str]], method: Callable[[frozenset[str]], list[str]]
) -> float:
    hits = sum(1 for rest, hidden in tests if hidden in method(rest))
    return hits / len(tests) if tests else 0.0


def _share(recommended: Sequence[str], hidden: Sequence[str]) -> float:
    chosen = set(recommended)
    return sum(1 for name in hidden if name in chosen) / len(hidden) if hidden else 0.0
