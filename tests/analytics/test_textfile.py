"""The client's timings in a Prometheus textfile (``[metrics] textfile``), as node_exporter's
textfile collector reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from prometheus_client.parser import text_string_to_metric_families

from anya_plugins.analytics.textfile import record_operation, textfile_path
from anya_plugins.errors import ConfigError
from tests.analytics.conftest import dist
from tests.registry_fixtures import Registry
from tests.support import Venv, VenvFactory, installing_unsigned_from

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def read(path: Path) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def count(samples: Samples, action: str, result: str) -> float:
    labels = frozenset({"action": action, "result": result}.items())
    return samples.get(("anya_client_operations_total", labels), 0.0)


def test_operations_add_up_across_writes(tmp_path: Path) -> None:
    path = tmp_path / "anya.prom"
    record_operation(path, "install", True, 1.5)
    record_operation(path, "install", True, 0.5)
    record_operation(path, "install", False, 0.25)
    samples = read(path)

    assert count(samples, "install", "ok") == 2
    assert count(samples, "install", "failed") == 1
    action = frozenset({"action": "install"}.items())
    assert samples[("anya_client_operation_seconds_total", action)] == 2.25
    assert samples[("anya_client_last_operation_seconds", action)] == 0.25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anya.prom", "anya.prom.lock"]


def test_a_textfile_must_end_in_prom() -> None:
    with pytest.raises(ConfigError, match=r"\.prom"):
        textfile_path("/var/lib/node_exporter/anya.txt")


@pytest.fixture(scope="module")
def venv(
    analytics_registry: Registry, make_venv: VenvFactory, tmp_path_factory: pytest.TempPathFactory
) -> Venv:
    return installing_unsigned_from(make_venv(), analytics_registry, tmp_path_factory.mktemp("t"))


def test_an_install_and_a_failed_one_are_written(venv: Venv, tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "anya.prom"
    done = venv.anya_ext("install", dist("did"), ANYA_METRICS__TEXTFILE=str(path))
    assert done.returncode == 0, done.stderr
    failed = venv.anya_ext("install", dist("no-such"), ANYA_METRICS__TEXTFILE=str(path))
    assert failed.returncode != 0

    samples = read(path)
    assert (count(samples, "install", "ok"), count(samples, "install", "failed")) == (1, 1)


def test_an_unwritable_textfile_does_not_fail_the_install(venv: Venv, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    done = venv.anya_ext("install", dist("vc"), ANYA_METRICS__TEXTFILE=str(blocker / "anya.prom"))
    assert done.returncode == 0, done.stderr
    assert dist("vc") in {canonicalize_name(name) for name in venv.freeze()}
