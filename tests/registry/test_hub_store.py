"""The hub's pure model: validation, editing with history, aggregates, the custom_data round
trip, and download receipts (signed, bound to user and project)."""

from __future__ import annotations

import pytest

from anya_plugins.registry import download_receipts
from anya_plugins.registry.hub_store import (
    HUB_KEY,
    HubData,
    HubInputError,
    RateLimiter,
    Review,
    checked_text,
    hidden_review,
    voted_review,
    written_review,
)


def review(user: str, rating: int, *, version: str = "1.0", project: str = "anya-ext-x") -> Review:
    return written_review(
        None, project=project, user=user, version=version, rating=rating, title="t", body="",
        verified=False, now=1.0,
    )  # fmt: skip


def test_aggregates_leave_hidden_reviews_out() -> None:
    data = HubData()
    for user, rating, version in (("a", 5, "1.0"), ("b", 3, "1.0"), ("c", 1, "2.0")):
        data = data.with_review(review(user, rating, version=version))
    hidden = hidden_review(data.reviews["anya-ext-x"]["c"], by="m", reason="spam", now=2.0)

    ratings = data.with_review(hidden).ratings("anya-ext-x")

    assert (ratings.overall.count, ratings.overall.mean) == (2, 4.0)
    assert ratings.overall.distribution == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert set(ratings.by_version) == {"1.0"}


def test_an_edit_keeps_the_previous_text_and_the_votes() -> None:
    first = voted_review(review("a", 2), by="b", helpful=True)

    edited = written_review(
        first, project="anya-ext-x", user="a", version="2.0", rating=5, title="Better",
        body="", verified=False, now=5.0,
    )  # fmt: skip

    assert (edited.rating, edited.title, edited.helpful) == (5, "Better", ("b",))
    assert [(h.rating, h.version) for h in edited.history] == [(2, "1.0")]


def test_a_user_cannot_vote_for_their_own_review() -> None:
    with pytest.raises(HubInputError):
        voted_review(review("a", 4), by="a", helpful=True)


def test_the_document_round_trips_through_custom_data_and_keeps_other_keys() -> None:
    data = HubData(writes_per_hour=7).with_review(review("a", 4))

    custom = data.into_custom_data({"other": {"kept": True}})

    assert custom["other"] == {"kept": True}
    assert HubData.from_custom_data(custom) == data
    assert HUB_KEY in custom


@pytest.mark.parametrize("text", ["", " ", "a\x00b", "\ud800", "x" * 11])
def test_text_out_of_bounds_is_refused(text: str) -> None:
    with pytest.raises(HubInputError):
        checked_text(text, "title", maximum=10)


def test_the_rate_limiter_counts_per_user_within_the_hour() -> None:
    limiter = RateLimiter()

    allowed = [limiter.allow("hub", "a", 2, now) for now in (0.0, 1.0, 2.0)]

    assert allowed == [True, True, False]
    assert limiter.allow("hub", "b", 2, 2.0)
    assert limiter.allow("hub", "a", 2, 3601.0)


def test_a_receipt_verifies_only_with_the_key_that_signed_it() -> None:
    receipt = download_receipts.DownloadReceipt(
        "alice", "u/i", "anya-ext-x", "1.0", "anya_ext_x-1.0-py3-none-any.whl", "0" * 64, 1.0
    )
    token = download_receipts.issue(download_receipts.receipt_key(b"secret"), receipt)

    assert download_receipts.verify(download_receipts.receipt_key(b"secret"), token) == receipt
    with pytest.raises(download_receipts.InvalidReceipt):
        download_receipts.verify(download_receipts.receipt_key(b"other"), token)
