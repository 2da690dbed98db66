"""The review records: one row per review whatever the channel, a re-pull updates and never
duplicates, ratings outside 1..5 are skipped with a reason, the language is the channel's or
detected, the buyer only an opaque id; and the same through real passes on the sandbox."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from sandbox import Sandbox
from syndicator.cli import app
from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.language import (
    OTHER,
    LanguageSource,
    detect_language,
    normalize_language,
    review_language,
)
from syndicator.reviews.records import opaque_buyer, record_reviews
from syndicator.store import Store
from syndicator.store.reviews import REVIEW_COLUMNS, ReviewFilter, read_reviews, select_reviews
from syndicator.store.schema import reviews
from syndicator.sync.reconcile import SyncReport, sync_once
from tests.connectors.kit import World
from tests.connectors.test_amazon import AmazonHarness
from tests.connectors.test_anou import HARNESS as ANOU
from tests.connectors.test_etsy import HARNESS as ETSY
from tests.reviews.kit import upgrade

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PASS1 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASS2 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)

ARABIC = "قطعة جميلة ومغلفة بعناية، شكراً للتعاونية!"
FRENCH = "Très belle pièce, bien emballée. Merci à la coopérative !"
ENGLISH = "Beautiful work, even nicer in person."


def review(review_id: str = "R-1", **kw: Any) -> Review:
    values: dict[str, Any] = {
        "source": ReviewSource.PRODUCT_REVIEW,
        "rating": 5,
        "text": FRENCH,
        "language": None,
        "created_at": T0,
    }
    values.update(kw)
    return Review(review_id=review_id, **values)


def record(store: Store, page: list[Review], now: datetime = PASS1, channel: str = "etsy") -> Any:
    with store.write() as conn:
        return record_reviews(conn, "atlas-rugs", channel, page, {"L-9": "RUG-1"}, now)


def rows(store: Store) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(reviews).order_by(reviews.c.review_id)).all())


# --------------------------------------------------------------------------- re-pulls
def test_a_re_pull_of_the_same_reviews_changes_nothing(store: Store) -> None:
    page = [review("R-1"), review("R-2", rating=4, text=ENGLISH)]
    with store.write() as conn:
        assert record_reviews(conn, "atlas-rugs", "etsy", page, {}, PASS1).stored == 2
    again = record(store, page, PASS2)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    stored = rows(store)
    assert [r.review_id for r in stored] == ["R-1", "R-2"]
    assert all(r.recorded_at == PASS1 and r.updated_at == T0 for r in stored)


def test_a_review_changed_on_the_channel_is_updated_in_place(store: Store) -> None:
    record(store, [review("R-1", rating=2, text="Arrivé abîmé, déçu.")])
    changed = record(store, [review("R-1", rating=4, text="Finalement très beau.")], PASS2)
    assert (changed.new, changed.updated, changed.unchanged) == (0, 1, 0)
    (row,) = rows(store)
    assert (row.rating, row.text) == (4, "Finalement très beau.")
    # The channel gave no update time: the pass that saw the change is the best we know.
    assert (row.created_at, row.updated_at, row.recorded_at) == (T0, PASS2, PASS2)


def test_the_channels_own_update_time_is_kept(store: Store) -> None:
    edited = T0 + timedelta(hours=5)
    record(store, [review("R-1", updated_at=T0)])
    record(store, [review("R-1", rating=3, updated_at=edited)], PASS2)
    (row,) = rows(store)
    assert (row.rating, row.updated_at) == (3, edited)


def test_the_same_review_twice_in_a_page_is_one_row(store: Store) -> None:
    result = record(store, [review("R-1", rating=2), review("R-1", rating=3)])
    assert result.new == 1
    assert [r.rating for r in rows(store)] == [3]


def test_a_sku_once_mapped_is_not_lost_when_the_listing_is_gone(store: Store) -> None:
    record(store, [review("R-1", remote_listing_id="L-9")])
    assert rows(store)[0].sku == "RUG-1"
    with store.write() as conn:  # the listing was deleted since: no longer in sku_of
        record_reviews(conn, "atlas-rugs", "etsy", [review("R-1", rating=4)], {}, PASS2)
    (row,) = rows(store)
    assert (row.sku, row.rating) == ("RUG-1", 4)


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_a_rating_outside_1_to_5_is_skipped_with_a_logged_reason(
    store: Store, rating: object
) -> None:
    with capture_logs() as logs:
        result = record(store, [review("R-bad", rating=rating), review("R-ok")])
    assert (result.new, result.stored) == (1, 1)
    assert [r.review_id for r in rows(store)] == ["R-ok"]
    (skipped,) = [e for e in logs if e["event"] == "review_skipped"]
    assert skipped["review_id"] == "R-bad" and skipped["channel"] == "etsy"
    assert "1 to 5" in skipped["reason"]
    assert result.skipped == [("R-bad", skipped["reason"])]


def test_a_review_without_a_time_zone_or_with_an_overlong_id_is_skipped(store: Store) -> None:
    with capture_logs():
        result = record(
            store,
            [review("R-naive", created_at=T0.replace(tzinfo=None)), review("x" * 129)],
        )
    assert result.stored == 0 and len(result.skipped) == 2
    assert rows(store) == []


def test_text_is_trimmed_and_keeps_no_nul_and_empty_text_is_null(store: Store) -> None:
    record(store, [review("R-1", text="  Beau\x00 tapis \n"), review("R-2", text="   ")])
    assert [r.text for r in rows(store)] == ["Beau tapis", None]


# --------------------------------------------------------------------------- buyers
def test_the_buyer_is_stored_only_as_an_opaque_id(store: Store) -> None:
    email = "Fatima.Zahra@example.com"
    record(store, [review("R-1", buyer_ref=email), review("R-2", buyer_ref=email)])
    record(store, [review("R-1", buyer_ref=email)], channel="anou")
    stored = rows(store)
    refs = {(r.channel, r.review_id): r.buyer_ref for r in stored}
    assert all(ref.startswith("b:") and len(ref) == 26 for ref in refs.values())
    assert refs["etsy", "R-1"] == refs["etsy", "R-2"]  # the same buyer, the same id
    assert refs["anou", "R-1"] != refs["etsy", "R-1"]  # not linkable across channels
    assert not any("fatima" in str(v).lower() for r in stored for v in r)
    assert opaque_buyer("atlas-rugs", "etsy", email) == refs["etsy", "R-1"]
    assert opaque_buyer("atlas-rugs", "etsy", None) is None


# --------------------------------------------------------------------------- languages
@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ARABIC, "ar"),
        ("وصلت متضررة، خيبة أمل.", "ar"),
        ("ممتاز", "ar"),
        (FRENCH, "fr"),
        ("Arrivé abîmé, déçu.", "fr"),
        ("Travail soigné, je recommande.", "fr"),
        (ENGLISH, "en"),
        ("Not as described.", "en"),
        ("Great quality, would buy again.", "en"),
        ("Muy bonito, gracias.", "es"),
        ("Sehr schön, danke!", "de"),
    ],
)
def test_the_language_of_a_text_is_detected_among_ours(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "Bellissimo tappeto, spedizione veloce, grazie mille!",  # Italian
        "Çok güzel bir halı, teşekkürler",  # Turkish: German to a five-language model
        "خیلی زیبا بود، ممنون از شما",  # Persian: Arabic script, not Arabic
        "Очень красивый ковёр, спасибо!",
    ],
)
def test_a_text_clearly_in_another_language_is_other(text: str) -> None:
    assert detect_language(text) == OTHER


@pytest.mark.parametrize(
    "text", [None, "", "Ok", "A+++", "👍", "5/5", "Top", "Merci", "Parfait", "Bzaf zwin, chokran"]
)
def test_a_short_or_ambiguous_text_has_no_language(text: str | None) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("given", "code"),
    [
        *(("fr", "fr"), ("FR", "fr"), ("fr-FR", "fr"), ("en_US", "en"), ("ar-MA", "ar")),
        *(("fra", "fr"), ("ara", "ar"), ("ary", "ar"), ("French", "fr"), ("it", "it")),
        *(("zgh", "zgh"), ("und", None), ("", None), (None, None), ("klingon", None)),
    ],
)
def test_a_channels_language_field_is_normalized(given: object, code: str | None) -> None:
    assert normalize_language(given) == code


def test_the_channels_language_wins_and_the_source_is_recorded(store: Store) -> None:
    record(
        store,
        [
            review("R-given", text=ENGLISH, language="fr-FR"),  # the channel says so
            review("R-ar", text=ARABIC),
            review("R-fr", text=FRENCH, language="und"),  # no language: detected
            review("R-short", text="Ok"),
            review("R-none", text=None),
        ],
    )
    found = {r.review_id: (r.language, r.language_source) for r in rows(store)}
    assert found == {
        "R-given": ("fr", "channel"),
        "R-ar": ("ar", "detected"),
        "R-fr": ("fr", "detected"),
        "R-short": (None, None),
        "R-none": (None, None),
    }
    assert review_language("en", None).source is LanguageSource.CHANNEL


# --------------------------------------------------------------------------- reading
def test_read_reviews_streams_batches_with_the_filter(store: Store) -> None:
    page = [
        review(f"R-{n:02}", created_at=T0 + timedelta(days=n), rating=1 + n % 5) for n in range(12)
    ]
    record(store, page)
    record(store, [review("A-1", source=ReviewSource.SELLER_FEEDBACK)], channel="amazon")
    with store.read() as conn:
        batches = list(read_reviews(conn, batch_size=5))
        assert [len(b) for b in batches] == [5, 5, 3]
        assert batches[0][0]._fields == REVIEW_COLUMNS
        since = list(
            read_reviews(conn, ReviewFilter(since=T0 + timedelta(days=10), channel="etsy"))
        )
        rated = [r.rating for b in read_reviews(conn, columns=("rating",)) for r in b]
        feedback = conn.execute(
            select(func.count()).select_from(
                select_reviews(ReviewFilter(source_kind=ReviewSource.SELLER_FEEDBACK)).subquery()
            )
        ).scalar_one()
    assert [r.review_id for b in since for r in b] == ["R-10", "R-11"]
    assert len(rated) == 13 and feedback == 1
    with pytest.raises(ValueError, match="buyer_ref"):
        select_reviews(columns=("rating", "buyer_ref"))


# --------------------------------------------------------------------------- migration
def test_the_migration_brings_stored_reviews_to_the_rules(tmp_path: Path) -> None:
    """Rows written before 0007: raw language codes, a raw buyer reference, no update time,
    seller feedback, a rating out of range."""
    url = f"sqlite:///{tmp_path}/old.db"
    old = Store(url, migrate=False)
    upgrade(old, "0006")
    base = {
        "cooperative": "atlas-rugs",
        "channel": "etsy",
        "created_at": T0,
        "recorded_at": T0,
        "buyer_ref": None,
    }
    with old.write() as conn:
        conn.execute(
            reviews.insert(),
            [
                {
                    **base,
                    "review_id": "1",
                    "rating": 5,
                    "text": ENGLISH,
                    "language": "fr-FR",
                    "source_kind": "product_review",
                    "buyer_ref": "someone@example.com",
                },
                {
                    **base,
                    "review_id": "2",
                    "rating": 2,
                    "text": ARABIC,
                    "language": None,
                    "source_kind": "seller_feedback",
                },
                {
                    **base,
                    "review_id": "3",
                    "rating": 9,
                    "text": "?",
                    "language": None,
                    "source_kind": "product_review",
                },
            ],
        )
    old.close()
    migrated = Store(url)
    stored = rows(migrated)
    migrated.close()
    assert [r.review_id for r in stored] == ["1", "2"]
    one, two = stored
    assert (one.language, one.language_source, one.complete_sample) == ("fr", "channel", True)
    assert (two.language, two.language_source, two.complete_sample) == ("ar", "detected", False)
    assert one.buyer_ref == opaque_buyer("atlas-rugs", "etsy", "someone@example.com")
    assert one.updated_at == T0 and two.buyer_ref is None


# --------------------------------------------------------------------------- real passes
def sync(world: World, **kw: Any) -> SyncReport:
    report = sync_once(world.config, world.store, timeout=5.0, **kw)
    assert report.ok, [c.to_json() for c in report.channels]
    return report


def test_reviews_from_three_marketplaces_are_stored_once_and_updated_on_re_pull(
    world: World, sandbox_server: Sandbox
) -> None:
    sync(world)
    world.control("amazon", "POST", "orders", {"sku": "RUG-1", "quantity": 1})
    sync(world, readback=False)
    world.control(
        "amazon", "POST", "reviews", {"sku": "RUG-1", "rating": 2, "text": "Arrived damaged."}
    )
    world.control(
        "etsy", "POST", "reviews", {"sku": "LAMP-1", "rating": 5, "text": ARABIC, "language": "ar"}
    )
    posted = world.control("anou", "POST", "reviews", {"sku": "CUSH-1-S", "rating": 3})
    first = sync(world, readback=False, reviews=True)
    assert {c.channel: c.reviews for c in first.channels} == {"amazon": 1, "etsy": 1, "anou": 1}

    anou = sandbox_server.anou
    with anou.lock:  # the buyer edits the review on the marketplace
        anou.state.reviews[posted["id"]].update(
            rating=5, text=FRENCH, updated_at=anou._now(), seq=anou._bump()
        )
    sync(world, readback=False, reviews=True)
    sync(world, readback=False, reviews=True)

    found = {r.channel: r for r in rows(world.store)}
    assert len(rows(world.store)) == 3
    amazon, etsy, anou_row = found["amazon"], found["etsy"], found["anou"]
    assert (anou_row.rating, anou_row.text, anou_row.language) == (5, FRENCH, "fr")
    assert anou_row.language_source == "detected" and anou_row.sku == "CUSH-1-S"
    assert (etsy.sku, etsy.language, etsy.language_source) == ("LAMP-1", "ar", "channel")
    assert (amazon.source_kind, amazon.complete_sample, amazon.rating) == (
        "seller_feedback",
        False,
        2,
    )
    assert (amazon.language, amazon.language_source) == ("en", "detected")
    assert amazon.buyer_ref.startswith("b:") and "@" not in amazon.buyer_ref
    assert amazon.order_ref and amazon.updated_at == amazon.created_at

    # The export command on the same config: the three reviews, and nothing a buyer or a
    # channel's credentials could be recognized by.
    out = world.root / "reviews.jsonl"
    args = ["reviews", "export", "--config", str(world.config_path), "--format", "jsonl"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = out.read_text(encoding="utf-8")
    assert len(exported.splitlines()) == 3 and FRENCH in exported
    feedback = sandbox_server.amazon.state.feedback[0]
    secrets = [h.secrets().values() for h in (AmazonHarness(), ETSY, ANOU)]
    assert not any(s in exported for s in (*itertools.chain(*secrets), feedback.rater_email))
    assert amazon.buyer_ref not in exported
