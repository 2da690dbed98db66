"""Amazon Selling Partner API, emulated: LWA, Listings Items, JSON listings feeds, Orders, Reports.

What the real SP-API refuses, this refuses too, in Amazon's own shapes: an LWA token is needed
(``x-amz-access-token``, one hour), each seller sees only its own listings, orders and reports,
request bodies and query parameters are checked against the official models
(:mod:`sandbox.spec_amazon`), and listings are checked against a small rule set of
product types (required attributes, valid price, currency and quantity). A listing that breaks
a rule is answered ``200 INVALID`` with issues and is not stored, as Amazon does.

Asynchronous work advances one step per poll, so tests and demos are deterministic: a feed or a
report is ``IN_QUEUE`` at the first ``getFeed``/``getReport``, ``IN_PROGRESS`` at the second,
and finished (``DONE``, ``FATAL``, or for a report without data ``CANCELLED``) from the third
on; a feed's messages are applied when it finishes. Documents (feeds, processing reports,
reports) are exchanged through loopback URLs on this emulator that act like S3 presigned URLs:
no token, the upload's Content-Type must be the one declared, and they expire after 5 minutes.

Times come from ``AmazonSandbox.now()`` (the base wall clock, which tests can replace); quotas
from the bucket clock.

One module per API family, each a :class:`~sandbox.amazon.api.Part` of the emulator::

    state       what Amazon knows (one State: what a lost write puts back)
    api         what every family shares: caller, error shapes, checks, ids, clock
    lwa         Login with Amazon                       POST /auth/o2/token
    catalog     the listing rules, for Listings Items and feeds alike
    listings    Listings Items 2021-08-01               /listings/2021-08-01/items/...
    documents   presigned document URLs                 /_documents/{id}
    jobs        what feeds and reports share: one step per poll
    feeds       Feeds 2021-06-30                        /feeds/2021-06-30/...
    orders      Orders 2026-01-01 and v0                /orders/...
    reports     Reports 2021-06-30 (seller feedback)    /reports/2021-06-30/...
    control     the control API                         /_sandbox/...
    emulator    AmazonSandbox: the families composed
"""

from __future__ import annotations

from sandbox.amazon.catalog import PRODUCT_TYPES
from sandbox.amazon.emulator import AmazonSandbox
from sandbox.amazon.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLERS,
    MARKETPLACES,
    Marketplace,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SELLERS",
    "MARKETPLACES",
    "PRODUCT_TYPES",
    "AmazonSandbox",
    "Marketplace",
]
