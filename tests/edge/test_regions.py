"""Region-aware mirror choice without a registry: the configuration, the latency memory and
failures remembered across runs (mirrors that refuse connections are real: closed ports)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from anya_plugins.sources.errors import SourcesConfigError
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.regions import MirrorMemory, RegionRouter
from anya_plugins.sources.settings import parse_sources


def closed_port_url(path: str = "/anya/primary/+simple/") -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_mirrors_grouped_by_region_are_read_in_order() -> None:
    settings = parse_sources(
        {
            "region": "eu",
            "primary": {
                "url": "http://origin.example/anya/primary/+simple/",
                "mirrors": {
                    "eu": {"urls": ["http://eu1.example/s/", "http://eu2.example/s"]},
                    "us": {"urls": ["http://us1.example/s/"]},
                },
            },
        },
        environ={},
    )
    source = settings.primary
    assert settings.region == "eu"
    assert source.regions == (
        ("eu", ("http://eu1.example/s/", "http://eu2.example/s/")),
        ("us", ("http://us1.example/s/",)),
    )
    assert source.urls[1:] == (
        "http://eu1.example/s/",
        "http://eu2.example/s/",
        "http://us1.example/s/",
    )
    router = RegionRouter.for_source(settings, source)
    assert router is not None and router.region_of("http://eu2.example/s/") == "eu"
    assert router.region_of(source.url) == "origin"


def test_a_plain_mirror_list_has_no_router() -> None:
    settings = parse_sources(
        {"primary": {"url": "http://a.example/s/", "mirrors": ["http://b.example/s/"]}},
        environ={},
    )
    assert settings.primary.regions == ()
    assert RegionRouter.for_source(settings, settings.primary) is None


def test_unknown_key_in_a_region_is_refused() -> None:
    with pytest.raises(SourcesConfigError, match=r"primary\.mirrors\.eu"):
        parse_sources(
            {"primary": {"mirrors": {"eu": {"url": ["http://eu1.example/s/"]}}}}, environ={}
        )


def test_latency_memory_expires() -> None:
    memory = MirrorMemory(None, ttl=60)
    memory.record("http://a/", 12.0, now=1000.0)
    assert memory.latency("http://a/", now=1059.0) == 12.0
    assert memory.latency("http://a/", now=1061.0) is None
    memory.record("http://a/", None, now=2000.0)
    assert memory.failed_recently("http://a/", now=2030.0) == 30.0
    assert memory.failed_recently("http://a/", now=2061.0) is None


def test_a_failed_mirror_is_not_probed_again_by_the_next_run(tmp_path: Path) -> None:
    dead, alive_later = closed_port_url(), closed_port_url()
    memory_file = tmp_path / "mirrors.json"
    with HttpClient(timeout=2) as http:
        first = RegionRouter({dead: "eu"}, "eu", MirrorMemory(memory_file, 3600))
        choices = first.choose([dead, alive_later], http, 1.0)
        assert [c.up for c in choices] == [False, False]
        assert not any(c.remembered for c in choices)
        next_run = RegionRouter({dead: "eu"}, "eu", MirrorMemory(memory_file, 3600))
        again = next_run.choose([dead], http, 1.0)
    assert again[0].remembered and "remembered" in again[0].reason
    assert dead in json.loads(memory_file.read_text())
    expired = RegionRouter({dead: "eu"}, "eu", MirrorMemory(memory_file, 0.001))
    with HttpClient(timeout=2) as http:
        assert not expired.choose([dead], http, 1.0)[0].remembered


def test_mirrors_command_says_what_it_would_pick_and_why(tmp_path: Path) -> None:
    dead = closed_port_url()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[sources]\nregion = "eu"\n[sources.primary]\nurl = "{dead}"\n'
        f'[sources.primary.mirrors.eu]\nurls = ["{closed_port_url()}"]\n'
        f'[sources.cache]\ndir = "{tmp_path / "cache"}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "mirrors", "--source", "primary", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ANYA_CONFIG": str(config)},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # no mirror of the source answers
    report = json.loads(done.stdout)
    assert report["region"] == "eu"
    (source,) = report["sources"]
    assert source["name"] == "primary"
    regions = [choice["region"] for choice in source["choices"]]
    assert sorted(regions) == ["eu", "origin"]
    assert all(
        not choice["up"] and choice["reason"].startswith("down") for choice in source["choices"]
    )
