"""How the core talks to a marketplace.

The connector interface (:mod:`~syndicator.channels.interface`), and what every connector
shares, written once: calls within the quota with bounded retries
(:mod:`~syndicator.channels.calls`), HTTP status mapping and timeouts
(:mod:`~syndicator.channels.http`), offset and cursor paging
(:mod:`~syndicator.channels.paging`), access tokens from a refresh token, rotated or not
(:mod:`~syndicator.channels.tokens`). Connectors see all of it through
:mod:`syndicator.connector`.
"""
