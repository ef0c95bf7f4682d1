# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Prometheus metrics of the devpi plugin: ``GET /+metrics`` (text exposition format).

* ``download_latency_seconds`` (histogram, buckets 0.1 0.5 1 2 5 10 s, label ``index``): a
  file download (``GET .../+f/...`` answered 200), from the request reaching the plugin to
  the last byte handed to the WSGI server (the response's body is timed as it is read, so a
  mirrored file fetched from a slow upstream counts its whole fetch).
* ``registry_requests_total`` (counter, labels ``index`` and ``status``): every request
  answered; ``index`` is ``user/index`` only for an index that exists, else empty, so
  made-up paths cannot grow the number of series.
* ``registry_availability`` (gauge, labels ``target`` and ``url``, the URL shown without
  user or password): 1 when the target answered a probe (``prober``) made while this scrape
  was served, else 0. Targets: this server (``primary``, its ``/+api``), each ``mirror``
  index (its ``mirror_url``), and every ``--anya-probe NAME=URL,...`` (replicas, edges).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pyramid.response import Response  # type: ignore[import-untyped]
from pyramid.tweens import EXCVIEW  # type: ignore[import-untyped]

from anya_plugins.registry.prober import probe_all, without_credentials

METRICS_ROUTE = "anya-metrics"
METRICS_PATH = "/+metrics"
PROBE_OPTION = "--anya-probe"
PRIMARY_TARGET = "primary"
DOWNLOAD_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
_WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")
_MIRROR = "mirror"
_FILE_SEGMENT = "+f"

Handler = Callable[[Any], Any]

METRICS = CollectorRegistry()
DOWNLOAD_LATENCY = Histogram(
    "download_latency_seconds",
    "Time to serve a release file (/+f/), to the last byte handed to the server.",
    ["index"],
    buckets=DOWNLOAD_BUCKETS,
    registry=METRICS,
)
REQUESTS = Counter(
    "registry_requests",
    "Requests answered, by index (user/index; empty when not an existing index) and status.",
    ["index", "status"],
    registry=METRICS,
)
AVAILABILITY = Gauge(
    "registry_availability",
    "1 when the target answered the probe made during this scrape, else 0.",
    ["target", "url"],
    registry=METRICS,
)
_availability_lock = threading.Lock()


def add_options(parser: Any) -> None:
    parser.addoption(
        PROBE_OPTION,
        type=str,
        default="",
        metavar="NAME=URL[,NAME=URL...]",
        help="other endpoints whose availability /+metrics reports as "
        "registry_availability{target=NAME} (replicas, edges); also DEVPISERVER_ANYA_PROBE",
    )


def configure(pyramid_config: Any) -> None:
    """The ``/+metrics`` view and the timing tween (outside devpi's own tweens, so a
    request's whole handling is timed, but under the keyfs transaction, to name its index)."""
    pyramid_config.add_route(METRICS_ROUTE, METRICS_PATH)
    pyramid_config.add_view(metrics_view, route_name=METRICS_ROUTE, request_method="GET")
    pyramid_config.add_tween(
        f"{__name__}.metrics_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=EXCVIEW,
    )


def metrics_view(request: Any) -> Response:
    xom = request.registry["xom"]
    _record_availability(probe_targets(xom))
    return Response(body=generate_latest(METRICS), content_type=CONTENT_TYPE_LATEST, charset=None)


def probe_targets(xom: Any) -> dict[str, str]:
    """``{target: url}``: this server, each mirror index's upstream, each ``--anya-probe``."""
    args = xom.config.args
    host = str(getattr(args, "host", "") or "")
    host = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    targets = {PRIMARY_TARGET: f"http://{host}:{args.port}/+api"}
    for user in xom.model.get_userlist():
        for stage in user.getstages():
            if stage.ixconfig.get("type") == _MIRROR and stage.ixconfig.get("mirror_url"):
                targets[stage.name] = str(stage.ixconfig["mirror_url"])
    for entry in str(getattr(args, "anya_probe", None) or "").split(","):
        name, _, url = entry.strip().partition("=")
        if name and url:
            targets[name] = url
    return targets


def _record_availability(targets: dict[str, str]) -> None:
    results = probe_all(targets)
    with _availability_lock:
        # Only this scrape's targets: a removed mirror's series ends instead of lingering.
        AVAILABILITY.clear()
        for result in results:
            AVAILABILITY.labels(result.target, without_credentials(result.url)).set(
                1 if result.up else 0
            )


def metrics_tween(handler: Handler, registry: Any) -> Handler:
    """Count every answer; time file downloads until their body has been read."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        started = time.monotonic()
        index = _index_of(xom, request.path_info)
        response = handler(request)
        REQUESTS.labels(index, str(response.status_code)).inc()
        if (
            request.method == "GET"
            and response.status_code == 200
            and _is_download(request.path_info)
        ):
            histogram = DOWNLOAD_LATENCY.labels(index)
            response.app_iter = _TimedBody(
                response.app_iter, lambda: histogram.observe(time.monotonic() - started)
            )
        return response

    return tween


def _index_of(xom: Any, path: str) -> str:
    """``user/index`` of an existing index the path is under, else empty."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0].startswith("+") or parts[1].startswith("+"):
        return ""
    return f"{parts[0]}/{parts[1]}" if xom.model.getstage(parts[0], parts[1]) else ""


def _is_download(path: str) -> bool:
    return _FILE_SEGMENT in path.strip("/").split("/")


class _TimedBody:
    """A response body that calls ``done`` once, when the server closes it (after the last
    byte, or when the client went away)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done: Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()
