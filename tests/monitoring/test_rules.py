"""The alert rules shipped in index-config/alerts.yml: valid for promtool, and firing when
they should on series fed to promtool's rule unit tests (``promtool test rules``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.monitoring.support import PROMETHEUS_PACKAGE
from tests.support import REPO

RULES = REPO / "index-config" / "alerts.yml"


def promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip(
            f"promtool is missing: install Debian's {PROMETHEUS_PACKAGE} package "
            f"(apt-get install {PROMETHEUS_PACKAGE}; the tests session does it as root)"
        )
    return binary


def check_rules(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )


def test_the_shipped_rules_pass_promtool() -> None:
    result = check_rules(RULES)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rules found" in result.stdout


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yml"
    broken.write_text(RULES.read_text().replace("sum by (le)", "sum by (le", 1))

    result = check_rules(broken)

    assert result.returncode == 1
    assert "parse error" in result.stdout + result.stderr


def unit_test(tmp_path: Path, series: dict[str, str], tests: list[dict[str, object]]) -> str:
    """Run ``promtool test rules`` on the shipped rules; its output (it must pass)."""
    document = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": tests,
            }
        ],
    }
    spec = tmp_path / "alerts_test.yml"
    spec.write_text(json.dumps(document))  # YAML is a superset of JSON
    result = subprocess.run(
        [promtool(), "test", "rules", str(spec)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def latency_series(slow_per_minute: int, fast_per_minute: int) -> dict[str, str]:
    """Bucket counters: ``fast`` downloads under 0.1 s and ``slow`` ones of 5-10 s a minute."""
    series = {}
    for le in ("0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "+Inf"):
        per_minute = fast_per_minute + (slow_per_minute if le in ("10.0", "+Inf") else 0)
        series[f'download_latency_seconds_bucket{{index="anya/primary",le="{le}"}}'] = (
            f"0+{per_minute}x40"
        )
    return series


def test_high_download_latency_fires_when_the_p95_is_over_5_s(tmp_path: Path) -> None:
    # 10 slow of 100 downloads: the 95th is halfway into the 5-10 s bucket, 7.5 s.
    unit_test(
        tmp_path,
        latency_series(slow_per_minute=10, fast_per_minute=90),
        [
            {"eval_time": "3m", "alertname": "high_download_latency", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "high_download_latency",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "warning"},
                        "exp_annotations": {
                            "summary": "Registry downloads are slow: p95 7.5s (over 5 s)"
                        },
                    }
                ],
            },
        ],
    )


def test_high_download_latency_stays_quiet_under_5_s(tmp_path: Path) -> None:
    # 2 slow of 100: the p95 is a fast download.
    unit_test(
        tmp_path,
        latency_series(slow_per_minute=2, fast_per_minute=98),
        [{"eval_time": "20m", "alertname": "high_download_latency", "exp_alerts": []}],
    )


def test_low_success_rate_fires_under_95_percent(tmp_path: Path) -> None:
    labels = {"extension": "anya-ext-hello", "version": "1.0.0", "platform": "linux_x86_64"}
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    healthy = selector.replace("1.0.0", "1.1.0")
    unit_test(
        tmp_path,
        {
            f"installation_success_rate{{{selector}}}": "0.9x40",
            f"installation_success_rate{{{healthy}}}": "0.99x40",
        },
        [
            {"eval_time": "10m", "alertname": "low_success_rate", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "low_success_rate",
                "exp_alerts": [
                    {
                        "exp_labels": {**labels, "severity": "critical"},
                        "exp_annotations": {
                            "summary": "anya-ext-hello 1.0.0 on linux_x86_64: only 90% of "
                            "installations succeed (under 95 %)"
                        },
                    }
                ],
            },
        ],
    )
