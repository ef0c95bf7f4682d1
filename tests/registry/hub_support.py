"""The hub's test index on the session registry: its users, extensions and an HTTP helper.

Every project here has "quokka" in its name, which no other test module uses.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.registry_fixtures import Registry, Upload, metadata_wheel

HUB_INDEX = "quokkahub/ext"
MAINTAINER = "quokkahub"
LIMIT_FOR_TESTS = 1000
"""Writes per user per hour on the session's hub index."""
USERS = {"quokkahub": "maint-pw", "alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
PROJECTS = {
    "anya-ext-quokka-wallet": (
        "core/bitcoin",
        "A Lightning wallet for quokkas",
        ("1.0.0", "1.1.0"),
    ),
    "anya-ext-quokka-oracle": ("core/bitcoin", "Price feeds", ("0.1.0",)),
    "anya-ext-quokka-ml": ("core/ml", "Models for bitcoin fee estimation", ("2.0.0",)),
    # for search: uploaded in this order, the last after a pause (devpi logs whole seconds)
    "anya-ext-wombat-alpha": ("core/bitcoin", "Wombat channel manager", ("1.0.0",)),
    "anya-ext-wombat-beta": ("core/bitcoin", "Wombat fee bumper", ("1.0.0",)),
    "anya-ext-wombat-gamma": ("core/ml", "Wombat fee model", ("1.0.0",)),
}
_SET_UP: dict[str, HubIndex] = {}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, object]
    headers: dict[str, str]


@dataclass(frozen=True)
class HubIndex:
    registry: Registry

    @property
    def api(self) -> str:
        return f"{self.registry.url}/{HUB_INDEX}/+hub/api"

    def call(
        self, method: str, path: str, body: object = None, *, user: str | None = None,
        password: str | None = None, url: str | None = None,
    ) -> Answer:  # fmt: skip
        """One request to the hub API, signed in with Basic ``user:password`` when given."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if user is not None:
            secret = password if password is not None else USERS[user]
            headers["Authorization"] = (
                "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
            )
        request = urllib.request.Request(
            (url or self.api) + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, _json(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _json(error.read()), dict(error.headers))

    def file_url(self, project: str, version: str) -> str:
        """The URL of ``project``'s wheel of ``version`` on the hub index (its simple page)."""
        request = urllib.request.Request(
            f"{self.registry.url}/{HUB_INDEX}/+simple/{project}/",
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            files = json.loads(response.read())["files"]
        (found,) = [f["url"] for f in files if f"-{version}-" in f["filename"]]
        page = f"{self.registry.url}/{HUB_INDEX}/+simple/{project}/"
        return urllib.parse.urljoin(page, str(found)).split("#")[0]

    def receipt(self, project: str, version: str, *, user: str) -> str:
        """Download the wheel signed in as ``user``; the receipt the registry attached."""
        answer = self.call("GET", "", user=user, url=self.file_url(project, version))
        assert answer.status == 200
        return answer.headers["X-Anya-Download-Receipt"]


def _json(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data)
    except ValueError:
        return {"text": data.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"value": value}


def set_up_hub(registry: Registry, upload: Upload, wheels: Path) -> HubIndex:
    """The hub index with its users and :data:`PROJECTS`, set up once per session."""
    if registry.url in _SET_UP:
        return _SET_UP[registry.url]
    admin = registry.client(registry.admin.user)
    existing = admin.users()
    for user, password in USERS.items():
        if user not in existing:
            admin.create_user(user, password)
    if admin.index(HUB_INDEX) is None:
        admin.create_index(
            HUB_INDEX,
            {"type": "anya", "bases": [], "acl_upload": [MAINTAINER], "volatile": False},
        )
    for name, (category, summary, versions) in PROJECTS.items():
        if name == "anya-ext-wombat-gamma":
            time.sleep(1.1)
        for version in versions:
            wheel = metadata_wheel(
                wheels, name, version=version, summary=summary, category=category
            )
            done = upload(HUB_INDEX, wheel, user=MAINTAINER, password=USERS[MAINTAINER])
            assert done.returncode == 0, done.stdout + done.stderr
    hub = HubIndex(registry)
    # Every hub test of a session writes here, in whatever order its worker runs the files:
    # the hourly write limit (30 per user by default) is the limit test's own to lower.
    limits = hub.call("PATCH", "/roles", {"writes_per_hour": LIMIT_FOR_TESTS}, user=MAINTAINER)
    assert limits.status == 200, limits.body
    _SET_UP[registry.url] = hub
    return hub
