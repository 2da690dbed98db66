"""Etsy Open API v3, emulated: OAuth with rotating refresh tokens, shops, listings, their
inventory and images, receipts and reviews, on the model's own paths (``/v3/application/...``).

Kept are the Etsy rules that catch connectors: x-api-key is ``keystring:shared_secret`` (403
with the keystring alone, which is what etsy-python sends), an access token lasts an hour and
a refresh token works once, the inventory is replaced whole by every update (a product left
out is gone, and products get new ids) and refuses the ids its own GET answers with, a listing
holds at most 999 pieces, activation needs an image and stock. Every request is first decoded
and checked against Etsy's model (:mod:`sandbox.spec_etsy`), then against Etsy's
own rules.

Credentials (apps, shops, tokens) live in ``auth``, apart from the marketplace data in
``state``: a "lost write" fault puts back the data, never revives a used refresh token.
Times come from ``wall`` (unix seconds, injectable); money is Decimal, never float.

One module per API family, each a :class:`~sandbox.etsy.api.Part` naming the model's
operations it serves::

    state       what Etsy knows: Auth (apps, shops, tokens) apart from State
    api         what every family shares: key, bearer, errors, the model's checks, access
    rules       Etsy's field rules (titles, tags, prices ...) and shared computations
    views       listings, inventories and images as the answers show them
    oauth       the token endpoint                  POST /v3/public/oauth/token
    shops       getShop, getShopShippingProfiles
    listings    create, get, list, update, delete a listing
    inventory   getListingInventory, updateListingInventory
    images      uploadListingImage, getListingImages
    receipts    getShopReceipts
    reviews     getReviewsByShop
    control     the control API                     /_sandbox/...
    emulator    EtsySandbox: the families composed
"""

from __future__ import annotations

from sandbox.etsy.emulator import OPERATIONS, EtsySandbox
from sandbox.etsy.oauth import ACCESS_TOKEN_SECONDS
from sandbox.etsy.state import DEMO_ACCOUNTS, DemoAccount

__all__ = ["ACCESS_TOKEN_SECONDS", "DEMO_ACCOUNTS", "OPERATIONS", "DemoAccount", "EtsySandbox"]
