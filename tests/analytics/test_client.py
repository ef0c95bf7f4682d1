"""The client side of usage analytics: consent, the queue, sending, and what an install sends
(checked at the socket), with a real registry and real installs.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from anya_plugins.analytics.consent import (
    CI_VARIABLES,
    load_consent,
    reset_installation_id,
    set_enabled,
    sharing,
)
from anya_plugins.analytics.events import BATCH_FIELDS, EVENT_FIELDS
from anya_plugins.analytics.queue import MAX_QUEUED, EventQueue
from anya_plugins.analytics.sender import registry_root, send_queued
from tests.analytics.conftest import dist, event
from tests.registry_fixtures import Registry
from tests.support import Venv, VenvFactory, installing_unsigned_from


@pytest.fixture
def data_dir(tmp_path: Path) -> dict[str, str]:
    return {"ANYA_DATA_DIR": str(tmp_path / "data")}


def test_sharing_is_off_until_switched_on(data_dir: dict[str, str]) -> None:
    assert load_consent(data_dir).enabled is False
    assert sharing(data_dir, interactive=True) is None
    consent = set_enabled(True, data_dir)
    assert len(consent.installation_id) == 32
    assert sharing(data_dir, interactive=True) == consent


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS", "ANYA_NO_ANALYTICS"])
def test_sharing_is_off_in_ci_and_when_told(data_dir: dict[str, str], variable: str) -> None:
    set_enabled(True, data_dir)
    assert sharing({**data_dir, variable: "true"}, interactive=True) is None


def test_sharing_is_off_when_not_on_a_terminal(data_dir: dict[str, str]) -> None:
    set_enabled(True, data_dir)
    assert sharing(data_dir, interactive=False) is None


def test_a_reset_gives_a_new_id_and_drops_the_queue(data_dir: dict[str, str]) -> None:
    first = set_enabled(True, data_dir)
    queue = EventQueue.of(data_dir)
    queue.add([event("install", "did")])
    second = reset_installation_id(data_dir)
    assert second.installation_id != first.installation_id and second.enabled
    assert len(queue) == 0


def test_switching_off_drops_the_queue(data_dir: dict[str, str]) -> None:
    set_enabled(True, data_dir)
    EventQueue.of(data_dir).add([event("install", "did")])
    set_enabled(False, data_dir)
    assert len(EventQueue.of(data_dir)) == 0


def test_the_queue_keeps_the_newest_events_up_to_its_cap(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "queue.jsonl")
    queue.add([event("install", "did", version=f"{n}.0") for n in range(MAX_QUEUED + 5)])
    assert len(queue) == MAX_QUEUED
    assert queue.peek(1)[0].version == "5.0"
    queue.drop(10)
    assert queue.peek(1)[0].version == "15.0"


def test_the_registry_of_a_source_url_drops_its_credentials() -> None:
    url = "https://bob:s3cret@registry.example/anya/primary/+simple/"
    assert registry_root(url) == "https://registry.example"
    assert registry_root("https://pypi.example/simple/") is None


def test_queued_events_are_sent_and_leave_the_queue(
    analytics_registry: Registry, tmp_path: Path
) -> None:
    queue = EventQueue(tmp_path / "queue.jsonl")
    queue.add([event("install", "model") for _ in range(3)])
    installation = set_enabled(True, {"ANYA_DATA_DIR": str(tmp_path)}).installation_id

    result = send_queued(analytics_registry.url, installation, queue)

    assert (result.sent, result.pending, result.error) == (3, 0, None)


def test_offline_events_stay_queued(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "queue.jsonl")
    queue.add([event("install", "model")])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = send_queued(f"http://127.0.0.1:{port}", "0" * 32, queue, timeout=2)
    assert result.sent == 0 and result.pending == 1 and result.error


# What an install sends, seen at the socket


@dataclass
class Listener:
    """A stand-in analytics endpoint that records every connection and request."""

    url: str = ""
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    found.url = f"http://127.0.0.1:{server.getsockname()[1]}"
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            found.connections += 1
            with connection:
                connection.settimeout(5)
                found.requests.append(_read_request(connection))
                body = b'{"accepted": 1, "kept": 1}'
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join()
    server.close()


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")), 0,
    )  # fmt: skip
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def client_venv(
    analytics_registry: Registry, make_venv: VenvFactory, tmp_path_factory: pytest.TempPathFactory
) -> Venv:
    return installing_unsigned_from(make_venv(), analytics_registry, tmp_path_factory.mktemp("c"))


def on_terminal(venv: Venv, *args: str, answer: str = "", **env: str) -> tuple[int, str]:
    """Run ``anya-ext`` with a pseudo-terminal as stdin, stdout and stderr; ``answer`` is typed
    when it asks."""
    main, secondary = os.openpty()
    environment = {k: v for k, v in venv.env().items() if k not in CI_VARIABLES} | env
    process = subprocess.Popen(
        [str(venv.path / "bin" / "anya-ext"), *args], stdin=secondary, stdout=secondary,
        stderr=secondary, env=environment, cwd=venv.home, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    output, typed = b"", False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            output += chunk
            if not typed and b"[y/N]" in output:
                os.write(main, answer.encode() + b"\n")
                typed = True
        elif process.poll() is not None:
            break
    os.close(main)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_with_analytics_off_an_install_on_a_terminal_sends_nothing(
    client_venv: Venv, listener: Listener
) -> None:
    code, output = on_terminal(
        client_venv, "install", dist("did"), answer="n", ANYA_ANALYTICS__URL=listener.url
    )
    assert code == 0, output
    assert "[y/N]" in output  # asked once, answered no
    assert load_consent({"ANYA_DATA_DIR": str(client_venv.home / "data")}).asked
    code, output = on_terminal(
        client_venv, "uninstall", dist("did"), ANYA_ANALYTICS__URL=listener.url
    )
    assert code == 0, output
    assert "[y/N]" not in output  # never asked again
    assert listener.connections == 0


def test_with_analytics_on_an_install_off_a_terminal_sends_nothing(
    client_venv: Venv, listener: Listener
) -> None:
    assert client_venv.anya_ext("analytics", "on").returncode == 0
    done = client_venv.anya_ext("install", dist("vc"), ANYA_ANALYTICS__URL=listener.url)
    assert done.returncode == 0, done.stderr
    assert listener.connections == 0


def test_with_analytics_on_an_install_in_ci_sends_nothing(
    client_venv: Venv, listener: Listener
) -> None:
    assert client_venv.anya_ext("analytics", "on").returncode == 0
    code, output = on_terminal(
        client_venv, "install", dist("model"), CI="true", ANYA_ANALYTICS__URL=listener.url
    )
    assert code == 0, output
    assert listener.connections == 0


def test_with_analytics_on_an_install_sends_only_the_allowed_fields(
    client_venv: Venv, listener: Listener
) -> None:
    assert client_venv.anya_ext("analytics", "on").returncode == 0
    code, output = on_terminal(
        client_venv, "install", dist("lightning"), ANYA_ANALYTICS__URL=listener.url
    )
    assert code == 0, output

    assert listener.connections == 1
    head, _, body = listener.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /+analytics/events ")
    assert b"authorization" not in head.lower() and b"cookie" not in head.lower()
    document = json.loads(body)
    assert tuple(document) == BATCH_FIELDS
    (sent,) = [e for e in document["events"] if e["extension"] == dist("lightning")]
    assert tuple(sent) == EVENT_FIELDS
    assert (sent["event"], sent["success"], sent["source"]) == ("install", True, "primary")
    assert socket.gethostname().encode() not in body


def test_analytics_send_delivers_the_queue_to_the_sources_registry(client_venv: Venv) -> None:
    """The real registry (its address taken from the primary source's URL) accepts them."""
    queue = EventQueue.of({"ANYA_DATA_DIR": str(client_venv.home / "data")})
    queue.add([event("install", "tor", version="9.9.9")])
    done = client_venv.anya_ext("--json", "analytics", "send")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["sent"] >= 1
    assert len(queue) == 0


def test_offline_an_install_succeeds_and_its_event_waits_in_the_queue(client_venv: Venv) -> None:
    assert client_venv.anya_ext("analytics", "on").returncode == 0
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    queue = EventQueue.of({"ANYA_DATA_DIR": str(client_venv.home / "data")})
    queue.clear()

    code, output = on_terminal(client_venv, "install", dist("wallet"), ANYA_ANALYTICS__URL=nowhere)

    assert code == 0, output
    assert [(e.event, e.extension, e.success) for e in queue.peek(10)] == [
        ("install", dist("wallet"), True)
    ]
