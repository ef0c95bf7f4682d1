"""The client's own timings for node_exporter's textfile collector (``[metrics] textfile``).

After each install, update or sync the file is rewritten atomically (a temporary file
renamed over it, by prometheus-client's ``write_to_textfile``), under a lock, with:

* ``anya_client_operations_total{action,result}``: operations run (``result`` ``ok`` or
  ``failed``), carried over from the file's previous content;
* ``anya_client_operation_seconds_total{action}``: their summed duration (rate it with the
  count for a mean);
* ``anya_client_last_operation_seconds{action}`` and
  ``anya_client_last_operation_timestamp_seconds{action}``: the latest one.

Point node_exporter's ``--collector.textfile.directory`` at the file's directory; the name
must end in ``.prom``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Final

from anya_plugins.errors import ConfigError
from anya_plugins.flock import exclusive

SECTION: Final = "metrics"
KEY: Final = "textfile"
LOCK_SECONDS: Final = 10.0
_COUNTERS: Final = ("anya_client_operations_total", "anya_client_operation_seconds_total")
_LAST: Final = (
    "anya_client_last_operation_seconds",
    "anya_client_last_operation_timestamp_seconds",
)


def textfile_path(value: object) -> Path:
    """The configured ``metrics.textfile``, checked."""
    if not isinstance(value, str) or not value.endswith(".prom"):
        raise ConfigError(
            f"metrics.textfile must be a path ending in .prom, not {value!r}",
            hint="node_exporter's textfile collector reads only *.prom files",
        )
    return Path(value).expanduser()


def record_operation(path: Path, action: str, ok: bool, seconds: float) -> None:
    """Add one operation to the textfile at ``path``."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, write_to_textfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(Path(f"{path}.lock"), LOCK_SECONDS):
        previous = _previous(path)
        registry = CollectorRegistry()
        operations = Counter(
            "anya_client_operations", "Operations the anya-ext client ran, by action and result.",
            ["action", "result"], registry=registry,
        )  # fmt: skip
        durations = Counter(
            "anya_client_operation_seconds", "Summed duration of anya-ext operations.",
            ["action"], registry=registry,
        )  # fmt: skip
        last = Gauge(
            "anya_client_last_operation_seconds", "Duration of the latest operation.",
            ["action"], registry=registry,
        )  # fmt: skip
        when = Gauge(
            "anya_client_last_operation_timestamp_seconds", "When the latest operation ended.",
            ["action"], registry=registry,
        )  # fmt: skip
        for (name, labels), value in previous.items():
            found = dict(labels)
            if name == "anya_client_operations_total":
                operations.labels(found.get("action", ""), found.get("result", "")).inc(value)
            elif name == "anya_client_operation_seconds_total":
                durations.labels(found.get("action", "")).inc(value)
            elif name == "anya_client_last_operation_seconds":
                last.labels(found.get("action", "")).set(value)
            elif name == "anya_client_last_operation_timestamp_seconds":
                when.labels(found.get("action", "")).set(value)
        operations.labels(action, "ok" if ok else "failed").inc()
        durations.labels(action).inc(seconds)
        last.labels(action).set(seconds)
        when.labels(action).set(time.time())
        write_to_textfile(str(path), registry)


def _previous(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of the file as it is (a file that does not parse starts again)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = path.read_text(encoding="utf-8")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name in (*_COUNTERS, *_LAST)
        }
    except (OSError, ValueError):
        return {}
