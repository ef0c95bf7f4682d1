"""Benchmarks: our code against the tools a user would otherwise pick, on the same work.

``python -m bench`` (or ``nox -s bench``) runs every section and writes a markdown table
of medians and ratios to ``bench/results/latest.md``; each section also runs alone
(``python -m bench.startup --quick``). Nothing here asserts a duration: the targets are
goals, reported as met or not met. ``--quick`` shrinks every size and repeat count so
that the smoke test (``tests/bench``) only checks that each benchmark still runs.

Sections: ``startup`` (Host start-up and discovery), ``hooks`` (hook call overhead),
``install`` (verified ``anya-ext install`` against pip and uv), ``verify`` (signature
verification, hash throughput), ``search`` (``+anya/search`` latency), ``serving``
(devpi and an nginx cache tier under load).
"""
