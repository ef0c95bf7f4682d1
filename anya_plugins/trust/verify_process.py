"""Verifying an install's files in a process of its own, on the machine's other core.

Importing sigstore (its pydantic models, the Rekor types, cryptography) costs ~300 ms of
CPU before the first signature can be checked. In a thread of the installing process that
import holds the GIL the install's other work needs (checking the index pages it serves to
the resolver, hashing and staging downloads), so the two add up. In a child process started
as the command begins they run side by side: on a 2-core machine, a cold verified install
with no dependency went from ~610 to ~500 ms, with 10 from ~815 to ~680 ms, with 50 from
~1,640 to ~1,450 ms (interleaved A/B runs against a local devpi).

:class:`VerifyProcess` starts ``python -c`` with this module's :func:`main`, from the same
interpreter and the same copy of anya-plugins, and asks it for one verdict at a time:
exactly the checks :func:`verdict_of` makes in this process (it is the function the child
runs). Its answers come back over a pipe of our own (length-prefixed pickles between this
process and the child it started); a refusal is raised here as the same
:class:`~anya_plugins.errors.AnyaError` with the same message and hint. If the child cannot
start or goes away, :class:`VerifierGone` says so and the caller verifies in this process.

The child ignores Ctrl-C (the install handles it). It stays, idle, for the next install
under the same policy in this process (:func:`process_for`), and is ended when this process
exits; it also exits by itself when its input closes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import weakref

import anya_plugins
from anya_plugins.errors import AnyaError
from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # the CLI starts the child before its other imports: only what that needs
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO, Any

    from anya_plugins.trust.policy import TrustPolicy
    from anya_plugins.trust.verdicts import Verdict

_HEADER_BYTES = 4
"""Each message: its length (big-endian), then its pickle."""


class FileToVerify(Frozen):
    """One file and what it is installed as: the inputs of :func:`verdict_of`."""

    path: Path
    provenance: bytes | None
    dist_name: str
    version: str
    source: str
    dependency: bool
    allow_unsigned: bool

    def __init__(
        self,
        path: Path,
        provenance: bytes | None,
        dist_name: str,
        version: str,
        source: str,
        dependency: bool,
        allow_unsigned: bool,
    ) -> None:
        self._init(path, provenance, dist_name, version, source, dependency, allow_unsigned)


class VerifierGone(Exception):
    """The verifying process did not start, or ended: verify in this process instead."""


def verdict_of(file: FileToVerify, policy: TrustPolicy, *, offline: bool) -> Verdict:
    """Verify ``file`` under ``policy``: an extension by its source's rules, a dependency
    under ``trust.dependencies``. Raises VerificationFailed (or another TrustError)."""
    from anya_plugins.trust.dependencies import verify_dependency
    from anya_plugins.trust.verdicts import Verdict
    from anya_plugins.trust.verification import verify_file

    if file.dependency:
        checked = verify_dependency(
            file.path, provenance=file.provenance, dist_name=file.dist_name,
            version=file.version, source=file.source, policy=policy, offline=offline,
        )  # fmt: skip
        return Verdict(checked.decision, checked.summary)
    return Verdict(
        verify_file(
            file.path,
            bundle=None,
            attestation=file.provenance,
            dist_name=file.dist_name,
            source=file.source,
            policy=policy,
            allow_unsigned=file.allow_unsigned,
            offline=offline,
        )
    )


class VerifyProcess:
    """A child process that verifies under one policy (:meth:`use`); :meth:`verdict` may be
    called from any thread (one request at a time)."""

    def __init__(self) -> None:
        """Start the child: it imports sigstore at once, then waits for its policy.
        Raises VerifierGone when it cannot be started."""
        if not sys.executable:
            raise VerifierGone("no interpreter to start (sys.executable is empty)")
        package = os.path.realpath(anya_plugins.__file__)
        package_root = os.path.dirname(os.path.dirname(package))  # noqa: PTH120 (start-up)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-c", _CHILD, package_root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as error:
            raise VerifierGone(f"cannot start {sys.executable}: {error}") from error
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to: IO[bytes] = self._process.stdin
        self._from: IO[bytes] = self._process.stdout
        self._lock = threading.Lock()
        self._gone: str | None = None
        self._policy: tuple[TrustPolicy, bool] | None = None
        weakref.finalize(self, _stop, self._process)

    @property
    def pid(self) -> int:
        return self._process.pid

    def use(self, policy: TrustPolicy, *, offline: bool) -> None:
        """Verify under ``policy`` (once; the child then loads its trusted root)."""
        with self._lock:
            if self._policy is not None:
                raise ValueError("this verifying process already has its policy")
            self._policy = (policy, offline)
            self._send(self._policy)

    def verdict(self, file: FileToVerify) -> Verdict:
        """What :func:`verdict_of` would answer for ``file``, raising what it would raise;
        VerifierGone when the child has ended."""
        with self._lock:
            self._send(file)
            reply = self._receive()
        kind, value = reply
        if kind == "verdict":
            return value  # type: ignore[no-any-return]
        if kind == "refused":
            raise _rebuilt(*value)
        from anya_plugins.trust.errors import TrustError

        raise TrustError(
            f"{file.path.name}: verifying it failed: {value}",
            hint="run again with -v; report this if it repeats",
        )

    @property
    def alive(self) -> bool:
        """Whether it may still answer (not closed, not known to have ended)."""
        return self._gone is None and self._process.poll() is None

    def close(self) -> None:
        """End the child, whatever it is doing."""
        self._gone = "it was closed"
        _stop(self._process)

    def _send(self, message: object) -> None:
        if self._gone is not None:
            raise VerifierGone(self._gone)
        try:
            self._to.write(_frame(message))
            self._to.flush()
        except (OSError, ValueError) as error:  # ValueError: closed meanwhile
            raise self._ended(f"cannot write to it: {error}") from error

    def _receive(self) -> tuple[str, Any]:
        try:
            reply: tuple[str, Any] | None = _read_frame(self._from)  # from the child we started
        except (OSError, ValueError) as error:  # ValueError: closed meanwhile
            raise self._ended(f"cannot read from it: {error}") from error
        if reply is None:
            raise self._ended("it closed its output")
        return reply

    def _ended(self, how: str) -> VerifierGone:
        code = self._process.poll()
        self._gone = f"the verifying process ended ({how}; exit code {code})"
        return VerifierGone(self._gone)


_ahead: VerifyProcess | None = None
_ready: dict[tuple[TrustPolicy, bool], VerifyProcess] = {}
_ahead_lock = threading.Lock()


def verifier_loaded_here() -> bool:
    """Whether this process has imported sigstore already: it then verifies faster itself
    than a process of its own, which must import it first."""
    return "sigstore.verify" in sys.modules


def start_ahead() -> None:
    """Start a verifying process now, for the next :func:`process_for` (an install about to
    verify: the CLI calls this before its own imports and configuration). Not when one is
    started, or when :func:`verifier_loaded_here`."""
    global _ahead
    with _ahead_lock:
        if _ahead is not None or verifier_loaded_here():
            return
        with contextlib.suppress(VerifierGone):
            _ahead = VerifyProcess()


def cancel_ahead() -> None:
    """End the process :func:`start_ahead` started, if it was not taken (nothing will need
    it: its imports would only take CPU from the install)."""
    global _ahead
    with _ahead_lock:
        process, _ahead = _ahead, None
    if process is not None:
        process.close()


def process_for(policy: TrustPolicy, *, offline: bool) -> VerifyProcess:
    """The verifying process for ``policy``: the one already verifying under it in this
    process (an application installing again), else the one :func:`start_ahead` started,
    else a new one. Raises VerifierGone when none can be started.

    A process stays, idle, until this one exits: a second install then verifies at once,
    as one that imported sigstore itself would. Like the verifier kept in this process, it
    loaded its trusted root once."""
    global _ahead
    key = (policy, offline)
    with _ahead_lock:
        process = _ready.get(key)
        if process is not None and process.alive:
            return process
        process, _ahead = _ahead, None
    if process is None:
        process = VerifyProcess()
    process.use(policy, offline=offline)
    with _ahead_lock:
        _ready[key] = process
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the child at once (it keeps nothing: every verdict is the parent's to keep).
    Not waited for: that would hold up the command's exit by the milliseconds a large
    process takes to be torn down; subprocess reaps it later (or, at exit, the system)."""
    with contextlib.suppress(OSError):
        process.kill()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _rebuilt(module: str, name: str, message: str, state: dict[str, Any]) -> AnyaError:
    """The child's AnyaError, as the same class with the same attributes."""
    import importlib

    from anya_plugins.trust.errors import TrustError

    if not module.startswith("anya_plugins."):  # only our own errors are made again
        return TrustError(message)
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, AnyaError)):
        return TrustError(message)
    error: AnyaError = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


_CHILD = (
    "import sys; root = sys.argv[1]; root in sys.path or sys.path.insert(0, root); "
    "from anya_plugins.gc_tuning import collect_rarely; collect_rarely(); "
    "from anya_plugins.trust.verify_process import main; main()"
)
"""The child's program: this module's :func:`main`, from the parent's copy of anya-plugins,
collecting garbage as the command does (:mod:`anya_plugins.gc_tuning`) from before its
imports.
Run with ``-P``: the working directory is not put on ``sys.path`` (a module there named
like one of ours, or sigstore, would otherwise be imported in its place)."""


def main() -> None:
    """The child: import sigstore, read the policy, load the verifier, then answer one file
    at a time until the input closes. Standard output is the answers' channel alone
    (anything printed goes to standard error)."""
    import signal

    from anya_plugins.trust.verification import import_sigstore, prepare_verifier

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    import_sigstore()
    first = _read_frame(requests)
    if first is None:
        return
    policy, offline = first
    prepare_verifier(policy, offline=offline).join()
    while (file := _read_frame(requests)) is not None:
        try:
            reply: tuple[str, Any] = ("verdict", verdict_of(file, policy, offline=offline))
        except AnyaError as error:
            state = dict(error.__dict__)
            reply = (
                "refused",
                (type(error).__module__, type(error).__qualname__, error.message, state),
            )
        except Exception as error:  # reported to the parent, which refuses the file
            reply = ("failed", f"{type(error).__name__}: {error}")
        answers.write(_frame(reply))
        answers.flush()


def _frame(message: object) -> bytes:
    import pickle

    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_HEADER_BYTES, "big") + data


def _read_frame(stream: IO[bytes]) -> Any:
    """The next message, or None once the stream ended (or ended within one). Both ends
    are processes of ours: the parent and the child it started."""
    import pickle

    header = stream.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        return None
    length = int.from_bytes(header, "big")
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)
