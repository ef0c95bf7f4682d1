"""Install integrity in the open world: a second command during an install, a parent killed
alone at any moment, a mirror that shows a second request another page, a mirror that lists
a release that does not exist.

Every test runs the real CLI against the session's devpi (through a lying mirror where the
test needs one) into a throwaway venv; every outcome is checked on disk: the environment is
exactly as before or exactly as after, and the receipts match it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError

import pytest

from anya_plugins.install import scratch
from tests.registry_fixtures import Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_unsigned_from,
)

pytestmark = pytest.mark.slow

BULKY = "anya-ext-concur-bulky"
QUICK = "anya-ext-concur-quick"
PINS = ".anya-trust/pins.json"
IGNORED = {
    "__pycache__",
    ".anya-install-journal",
    ".anya-install.lock",
    ".anya-cache",
    "audit-head.json",
}
"""Caches and bookkeeping: the lock, the journal, the discovery cache, and the audit log's
anchor, which moves with every entry (a refusal is one)."""


def _core(name: str, version: str = "1.0.0", **extra: object) -> ExtensionSpec:
    return ExtensionSpec(name, category="core/bitcoin", version=version, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def index(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    specs = [
        _core("concur-bulky", bulk_modules=3000),
        _core("concur-quick"),
        _core("split", "1.0.0"),
        _core("split", "2.0.0"),
        _core("marked", "1.0.0"),
        _core("marked", "2.0.0"),
    ]
    for spec in specs:
        done = upload("anya/primary", build_extension(spec), user="anya")
        assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def venv(index: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    return installing_unsigned_from(make_venv(), index, tmp_path / "cache")


# --- the state of an environment -------------------------------------------------------------


def _tree(venv: Venv) -> dict[str, str]:
    """Every file of the venv (and its receipts) with its sha256; caches left out."""
    files: dict[str, str] = {}
    for directory, dirnames, filenames in os.walk(venv.path):
        dirnames[:] = [d for d in dirnames if d not in IGNORED]
        for name in filenames:
            if name in IGNORED:
                continue
            path = Path(directory, name)
            relative = str(path.relative_to(venv.path))
            files[relative] = (
                f"link:{path.readlink()}"
                if path.is_symlink()
                else hashlib.sha256(path.read_bytes()).hexdigest()
            )
    return files


def _installed(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    return {name.lower(): version for name, version in json.loads(done.stdout).items()}


def _receipts(venv: Venv) -> dict[str, str]:
    directory = venv.path / ".anya-receipts"
    return {
        data["name"]: data["version"]
        for data in (json.loads(file.read_text()) for file in directory.glob("*.json"))
    }


def _assert_receipts_match(venv: Venv) -> None:
    installed = _installed(venv)
    receipts = _receipts(venv)
    for name, version in receipts.items():
        assert installed.get(name) == version, f"receipt {name} {version} for {installed.get(name)}"
    extensions = {name for name in installed if name.startswith("anya-ext-")}
    assert extensions == set(receipts), "an extension without a receipt, or the reverse"


def _assert_exactly_before_or_after(venv: Venv, before: dict[str, str], added: str) -> str:
    """The venv is exactly ``before``, or ``before`` plus all of ``added`` (verified on disk)
    and nothing else changed. Returns which."""
    now = _tree(venv)
    if now == before:
        return "before"
    removed = sorted(set(before) - set(now))
    changed = sorted(p for p in before.keys() & now.keys() if before[p] != now[p])
    # After, the pins may hold the new distribution's signer too (written inside the step).
    pins = json.loads((venv.path / PINS).read_text())["pins"] if PINS in changed else {}
    pinned = [PINS] if added in pins else []
    assert not removed and changed == pinned, f"removed {removed[:5]}, changed {changed[:5]}"
    verified = venv.anya_ext("verify", added)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert _receipts(venv).get(added) == "1.0.0"
    return "after"


def _start(venv: Venv, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(venv.path / "bin" / "anya-ext"), *args],
        env=venv.env(),
        cwd=venv.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_journal(venv: Venv, process: subprocess.Popen[str]) -> None:
    journal = venv.path / ".anya-install-journal" / "journal.json"
    deadline = time.monotonic() + 120
    while not journal.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert journal.exists(), "the install step was never reached (or finished unseen)"


def _installers_writing_into(venv: Venv) -> list[int]:
    """Processes whose command line names this venv's interpreter as an install target."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(venv.python).encode() in cmdline and b"install" in cmdline:
            found.append(int(entry.name))
    return found


# --- a second command during an install ------------------------------------------------------


def test_a_read_only_command_during_an_install_leaves_it_alone(venv: Venv) -> None:
    install = _start(venv, "install", "concur-bulky")
    _wait_for_journal(venv, install)
    listing = venv.anya_ext("list")
    assert listing.returncode == 0, listing.stderr
    assert "rolled back" not in listing.stderr
    out, err = install.communicate(timeout=180)
    assert install.returncode == 0, out + err
    assert _installed(venv)[BULKY] == "1.0.0"
    assert venv.anya_ext("verify", BULKY).returncode == 0
    _assert_receipts_match(venv)


def test_a_second_install_waits_for_the_first_and_both_land(venv: Venv) -> None:
    first = _start(venv, "install", "concur-bulky")
    _wait_for_journal(venv, first)
    # The first is held mid-install (its whole process group stopped) until the second says
    # it waits: how long each takes cannot decide the order.
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        second = _start(venv, "install", "concur-quick")
        assert second.stderr is not None
        said = second.stderr.readline()
        while said and "waiting for pid" not in said:
            said = second.stderr.readline()
        assert "waiting for pid" in said, second.communicate(timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, out + err
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, out + err
    installed = _installed(venv)
    assert installed[BULKY] == "1.0.0" and installed[QUICK] == "1.0.0"
    _assert_receipts_match(venv)


def test_an_uninstall_during_an_install_waits_for_it(venv: Venv) -> None:
    assert venv.anya_ext("install", "concur-quick").returncode == 0
    install = _start(venv, "install", "concur-bulky")
    _wait_for_journal(venv, install)
    removal = venv.anya_ext("uninstall", "concur-quick")
    assert removal.returncode == 0, removal.stdout + removal.stderr
    out, err = install.communicate(timeout=180)
    assert install.returncode == 0, out + err
    installed = _installed(venv)
    assert installed[BULKY] == "1.0.0" and QUICK not in installed
    _assert_receipts_match(venv)


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1, 0.3, 0.8])
def test_killing_the_parent_alone_leaves_the_environment_before_or_after(
    venv: Venv, delay: float
) -> None:
    """SIGKILL to anya-ext only (not its process group): its installer child must not go
    on writing, and the next command must find the environment exactly before or after."""
    assert venv.anya_ext("install", "concur-quick").returncode == 0
    before = _tree(venv)
    install = _start(venv, "install", "concur-bulky")
    _wait_for_journal(venv, install)
    time.sleep(delay)
    install.send_signal(signal.SIGKILL)
    install.communicate()

    deadline = time.monotonic() + 5
    while _installers_writing_into(venv) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _installers_writing_into(venv), "the installer outlived anya-ext"

    listing = venv.anya_ext("list")
    assert listing.returncode == 0, listing.stderr
    _assert_exactly_before_or_after(venv, before, BULKY)
    _assert_receipts_match(venv)
    assert not (venv.path / ".anya-install-journal").exists()


def test_a_parent_killed_while_resolving_changes_nothing(venv: Venv) -> None:
    before = _tree(venv)
    install = _start(venv, "install", "concur-bulky")
    time.sleep(0.3)  # start-up and resolution; the install step has not begun
    assert not (venv.path / ".anya-install-journal").exists()
    install.send_signal(signal.SIGKILL)
    install.communicate()
    assert venv.anya_ext("list").returncode == 0
    assert _tree(venv) == before


def test_what_a_killed_install_downloaded_goes_with_the_next_install(
    venv: Venv, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    venv.extra_env["TMPDIR"] = str(tmp)
    install = _start(venv, "install", "concur-bulky")
    _wait_for_journal(venv, install)
    install.send_signal(signal.SIGKILL)
    install.communicate()
    left = list(tmp.glob("anya-scratch-*"))
    assert left, "the killed install left no scratch directory: nothing was tested"
    a_while_ago = time.time() - 2 * scratch.GRACE_SECONDS
    for path in left:
        os.utime(path, (a_while_ago, a_while_ago))

    done = venv.anya_ext("install", "concur-quick")
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(tmp.glob("anya-scratch-*")) == []


# --- mirrors that lie ------------------------------------------------------------------------


class LyingMirror:
    """A mirror in front of the registry that can rewrite the JSON pages it serves; it
    counts the page requests per project."""

    def __init__(self, upstream: str, rewrite: Callable[[str, int, dict[str, object]], None]):
        self.upstream = upstream.rstrip("/")
        self.rewrite = rewrite
        self.pages: Counter[str] = Counter()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                request = urllib.request.Request(
                    mirror.upstream + self.path,
                    headers={"Accept": self.headers.get("Accept", "*/*")},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status, body = answer.status, answer.read()
                        content_type = answer.headers.get("Content-Type", "")
                except HTTPError as error:
                    status, body, content_type = error.code, error.read(), "text/plain"
                parts = self.path.strip("/").split("/")
                if status == 200 and "json" in content_type and parts[-2:-1] == ["+simple"]:
                    project = parts[-1]
                    mirror.pages[project] += 1
                    document = json.loads(body)
                    mirror.rewrite(project, mirror.pages[project], document)
                    body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/anya/primary/+simple/"

    def __enter__(self) -> LyingMirror:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lying_mirror(index: Registry) -> Iterator[Callable[..., LyingMirror]]:
    mirrors: list[LyingMirror] = []

    def make(rewrite: Callable[[str, int, dict[str, object]], None]) -> LyingMirror:
        mirror = LyingMirror(index.url, rewrite).__enter__()
        mirrors.append(mirror)
        return mirror

    yield make
    for mirror in mirrors:
        mirror.__exit__()


def _files(document: dict[str, object]) -> list[dict[str, object]]:
    files = document["files"]
    assert isinstance(files, list)
    return files


def test_the_resolver_reads_the_page_that_was_checked_never_a_second_one(
    venv: Venv, lying_mirror: Callable[..., LyingMirror]
) -> None:
    """A mirror showing the first request the newest release and every later one a stale
    page: the install gets what the checked page said, from one request per page."""

    def stale_after_first(project: str, count: int, document: dict[str, object]) -> None:
        if count > 1:
            document["files"] = [f for f in _files(document) if "2.0.0" not in str(f["filename"])]

    mirror = lying_mirror(stale_after_first)
    done = venv.anya_ext("install", "split", ANYA_SOURCES__PRIMARY__URL=mirror.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _installed(venv)["anya-ext-split"] == "2.0.0"
    assert mirror.pages["anya-ext-split"] == 1


def test_a_fake_release_listed_by_a_mirror_poisons_no_mark(
    venv: Venv, index: Registry, lying_mirror: Callable[..., LyingMirror]
) -> None:
    """One failover to a mirror listing a release that does not exist must not block the
    project afterwards: only a downloaded, verified release raises the rollback mark."""

    def fake_99(project: str, count: int, document: dict[str, object]) -> None:
        if project == "anya-ext-marked":
            fake = "anya_ext_marked-99.0.0-py3-none-any.whl"
            _files(document).append(
                {"filename": fake, "url": f"../../+f/fake/{fake}", "hashes": {"sha256": "0" * 64}}
            )

    liar = lying_mirror(fake_99)
    before = _tree(venv)
    refused = venv.anya_ext("install", "marked", ANYA_SOURCES__PRIMARY__URL=liar.url)
    assert refused.returncode == 8, refused.stdout + refused.stderr
    assert "99.0.0" in refused.stderr
    assert _tree(venv) == before

    done = venv.anya_ext("install", "marked")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _installed(venv)["anya-ext-marked"] == "2.0.0"


def test_a_verified_release_marks_the_source_and_cache_forget_lifts_it(
    venv: Venv, lying_mirror: Callable[..., LyingMirror]
) -> None:
    def hide_2(project: str, count: int, document: dict[str, object]) -> None:
        document["files"] = [f for f in _files(document) if "2.0.0" not in str(f["filename"])]

    honest = venv.extra_env["ANYA_SOURCES__PRIMARY__URL"]
    stale = lying_mirror(hide_2).url

    def dry_run(mirror: str) -> subprocess.CompletedProcess[str]:
        """The same source (its primary is down), served by ``mirror``."""
        return venv.anya_ext(
            "--json", "install", "--dry-run", "marked",
            ANYA_SOURCES__PRIMARY__URL="http://127.0.0.1:9/anya/primary/+simple/",
            ANYA_SOURCES__PRIMARY__MIRRORS=mirror,
        )  # fmt: skip

    assert dry_run(honest).returncode == 0
    held_back = dry_run(stale)
    assert held_back.returncode == 8
    assert "only up to 1.0.0, but 2.0.0 was verified" in held_back.stderr

    forgot = venv.anya_ext("cache", "forget", "anya-ext-marked")
    assert forgot.returncode == 0 and "forgot 1" in forgot.stdout
    allowed = dry_run(stale)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["changes"][0]["new_version"] == "1.0.0"
