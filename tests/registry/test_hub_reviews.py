"""Ratings, reviews, verified installs and moderation on the running registry's hub API."""

from __future__ import annotations

import pytest

from tests.registry.hub_support import (
    HUB_INDEX,
    LIMIT_FOR_TESTS,
    MAINTAINER,
    HubIndex,
    set_up_hub,
)
from tests.registry_fixtures import Registry, Upload

pytestmark = pytest.mark.slow

WALLET = "anya-ext-quokka-wallet"


@pytest.fixture(scope="module")
def hub(registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory) -> HubIndex:
    return set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))


def review(
    rating: int, title: str = "Solid", body: str = "Works.", **extra: object
) -> dict[str, object]:
    return {"rating": rating, "title": title, "body": body, **extra}


def test_aggregates_count_mean_and_distribution_overall_and_per_version(hub: HubIndex) -> None:
    project = "anya-ext-quokka-oracle"
    assert hub.call("POST", f"/reviews/{project}", review(5), user="alice").status == 200
    assert hub.call("POST", f"/reviews/{project}", review(2), user="bob").status == 200

    answer = hub.call("GET", f"/reviews/{project}")

    ratings = answer.body["ratings"]
    assert isinstance(ratings, dict)
    assert ratings["overall"] == {
        "count": 2, "mean": 3.5, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }  # fmt: skip
    assert ratings["by_version"]["0.1.0"]["count"] == 2


def test_one_review_per_user_a_second_post_edits_it_and_keeps_the_history(hub: HubIndex) -> None:
    hub.call("POST", f"/reviews/{WALLET}", review(3, version="1.0.0"), user="carol")

    edited = hub.call("POST", f"/reviews/{WALLET}", review(4, "Better now", version="1.1.0"),
                      user="carol")  # fmt: skip

    assert edited.status == 200
    reviews = hub.call("GET", f"/reviews/{WALLET}").body["reviews"]
    assert isinstance(reviews, list)
    (mine,) = [r for r in reviews if r["user"] == "carol"]
    assert (mine["rating"], mine["title"], mine["version"]) == (4, "Better now", "1.1.0")
    assert [(h["rating"], h["version"]) for h in mine["history"]] == [(3, "1.0.0")]


@pytest.mark.parametrize("password", [None, "wrong-password"], ids=["anonymous", "wrong-password"])
def test_a_review_without_a_valid_sign_in_is_refused(hub: HubIndex, password: str | None) -> None:
    answer = hub.call(
        "POST", f"/reviews/{WALLET}", review(1, "spam"),
        user="alice" if password else None, password=password,
    )  # fmt: skip

    assert answer.status == 401
    reviews = hub.call("GET", f"/reviews/{WALLET}").body["reviews"]
    assert isinstance(reviews, list)
    assert all(r["title"] != "spam" for r in reviews)


@pytest.mark.parametrize(
    "fields",
    [
        {"rating": 0}, {"rating": 6}, {"rating": True}, {"rating": "five"},
        {"title": ""}, {"title": "x" * 121}, {"body": "y" * 5001},
        {"title": "bell\x07"}, {"title": "\ud800"}, {"version": "9.9.9"},
    ],
    ids=["zero", "six", "bool", "text", "empty-title", "long-title", "long-body",
         "control-char", "lone-surrogate", "unknown-version"],
)  # fmt: skip
def test_invalid_input_is_refused_and_nothing_stored(
    hub: HubIndex, fields: dict[str, object]
) -> None:
    answer = hub.call("POST", "/reviews/anya-ext-quokka-ml", {**review(4), **fields}, user="bob")

    assert answer.status == 400, answer.body
    reviews = hub.call("GET", "/reviews/anya-ext-quokka-ml").body["reviews"]
    assert reviews == []


def test_a_download_receipt_makes_the_review_a_verified_install(hub: HubIndex) -> None:
    receipt = hub.receipt(WALLET, "1.1.0", user="alice")

    answer = hub.call("POST", f"/reviews/{WALLET}", review(5, receipt=receipt), user="alice")

    assert answer.status == 200, answer.body
    assert answer.body["verified"] is True
    assert answer.body["version"] == "1.1.0"


def test_an_anonymous_download_carries_no_receipt(hub: HubIndex) -> None:
    answer = hub.call("GET", "", url=hub.file_url(WALLET, "1.0.0"))

    assert answer.status == 200
    assert "X-Anya-Download-Receipt" not in answer.headers


def test_forged_verified_install_claims_are_refused(hub: HubIndex) -> None:
    alices = hub.receipt(WALLET, "1.0.0", user="alice")
    payload, _, signature = alices.partition(".")
    forged_signature = f"{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}"
    import base64
    import json

    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["user"] = "bob"
    rewritten = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    # what public data allows: the file's sha256 and URL, formatted like a receipt
    public_only = f"{payload}.{'0' * 43}"

    attempts = {
        "another user's receipt": alices,
        "altered signature": forged_signature,
        "payload rewritten to bob": f"{rewritten}.{signature}",
        "made from public data": public_only,
        "not a receipt": "sha256=" + "0" * 64,
    }
    for what, token in attempts.items():
        answer = hub.call("POST", f"/reviews/{WALLET}", review(5, receipt=token), user="bob")
        assert answer.status == 400, what
        assert "verified install refused" in str(answer.body["message"]), what
    reviews = hub.call("GET", f"/reviews/{WALLET}").body["reviews"]
    assert isinstance(reviews, list)
    assert all(not (r["user"] == "bob" and r["verified"]) for r in reviews)


def test_a_receipt_for_another_project_does_not_verify_this_one(hub: HubIndex) -> None:
    receipt = hub.receipt("anya-ext-quokka-oracle", "0.1.0", user="bob")

    answer = hub.call("POST", f"/reviews/{WALLET}", review(5, receipt=receipt), user="bob")

    assert answer.status == 400
    assert "receipt is for anya-ext-quokka-oracle" in str(answer.body["message"])


def test_script_in_a_review_is_stored_as_text(hub: HubIndex) -> None:
    body = '<script>alert("x")</script> & <b>bold</b>'
    hub.call("POST", f"/reviews/{WALLET}", review(4, "<script>t</script>", body), user="bob")

    reviews = hub.call("GET", f"/reviews/{WALLET}").body["reviews"]

    assert isinstance(reviews, list)
    (bobs,) = [r for r in reviews if r["user"] == "bob"]
    assert (bobs["title"], bobs["body"]) == ("<script>t</script>", body)


def test_users_flag_maintainers_hide_with_a_reason_others_may_not(hub: HubIndex) -> None:
    project = "anya-ext-quokka-ml"
    hub.call("POST", f"/reviews/{project}", review(1, "Terrible", "buy my coin"), user="alice")

    flagged = hub.call("POST", f"/reviews/{project}/alice/flag", {"reason": "spam"}, user="bob")
    refused = hub.call("POST", f"/reviews/{project}/alice/hide", {"reason": "spam"}, user="bob")
    no_reason = hub.call("POST", f"/reviews/{project}/alice/hide", {"reason": ""},
                         user=MAINTAINER)  # fmt: skip
    hidden = hub.call("POST", f"/reviews/{project}/alice/hide", {"reason": "advertising"},
                      user=MAINTAINER)  # fmt: skip

    assert (flagged.status, flagged.body["flags"]) == (200, 1)
    assert (refused.status, no_reason.status) == (403, 400)
    assert hidden.status == 200
    assert hidden.body["hidden"]["reason"] == "advertising"  # type: ignore[index]
    shown = hub.call("GET", f"/reviews/{project}").body
    assert shown["reviews"] == []
    assert shown["ratings"]["overall"]["count"] == 0  # type: ignore[index]


def test_writes_past_the_hourly_limit_are_refused_with_429(hub: HubIndex) -> None:
    owner = hub.call("PATCH", "/roles", {"writes_per_hour": 3}, user=MAINTAINER)
    assert owner.status == 200, owner.body
    try:
        statuses = [
            hub.call("POST", "/reviews/anya-ext-quokka-oracle", review(n), user="carol").status
            for n in (1, 2, 3, 4, 5)
        ]
    finally:
        hub.call("PATCH", "/roles", {"writes_per_hour": LIMIT_FOR_TESTS}, user=MAINTAINER)

    assert 429 in statuses
    assert statuses[: statuses.index(429)] == [200] * statuses.index(429)


def test_only_who_may_modify_the_index_sets_hub_roles(hub: HubIndex) -> None:
    answer = hub.call("PATCH", "/roles", {"admins": ["alice"]}, user="alice")

    assert answer.status == 403
    assert HUB_INDEX


def test_helpful_votes_count_on_the_contributor_page_not_for_oneself(hub: HubIndex) -> None:
    project = "anya-ext-wombat-alpha"
    hub.call("POST", f"/reviews/{project}", review(5, "Great channels"), user="alice")

    votes = [
        hub.call("POST", f"/reviews/{project}/alice/helpful", {"helpful": True}, user=user)
        for user in ("bob", "carol", "alice")
    ]

    assert [v.status for v in votes] == [200, 200, 400]
    contributor = hub.call("GET", "/contributors/alice").body
    assert contributor["helpful_votes"] == 2
    reviewed = contributor["reviews"]
    assert isinstance(reviewed, list)
    assert project in {r["project"] for r in reviewed}
    maintainer = hub.call("GET", f"/contributors/{MAINTAINER}").body
    assert project in maintainer["extensions"]  # type: ignore[operator]


def test_the_index_configuration_does_not_show_the_hub_document(hub: HubIndex) -> None:
    """Hidden reviews and who flagged them stay with the moderation API."""
    hub.call("POST", f"/reviews/{WALLET}", review(3), user="carol")

    answer = hub.call("GET", "", url=f"{hub.registry.url}/{HUB_INDEX}")

    assert answer.status == 200
    result = answer.body["result"]
    assert isinstance(result, dict)
    assert "anya_hub" not in (result.get("custom_data") or {})
