"""How the core talks to a marketplace.

The connector interface, and what every connector shares, written once: calls within the
quota with bounded retries, HTTP status mapping and timeouts. Connectors see all of it
through :mod:`syndicator.connector`.
"""
