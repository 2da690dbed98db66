"""Marketplace connectors: one package per marketplace, each seeing the core through
:mod:`syndicator.connector` alone, each with the same skeleton (docs/connectors.md):

``__init__`` (the ``CHANNEL_TYPE``; imports only the settings), ``settings`` (the settings
model), ``auth`` (credentials and tokens), ``client`` (the raw calls in the Caller, and the
library's exceptions sorted into the error tree), ``payloads`` (pure: projections to request
bodies), ``records`` (pure: answers to orders, reviews, listings and outcomes) and
``connector`` (the Connector class, composing the parts), with a module or two of the
marketplace's own. :mod:`connectors.limits` is the one table of published limits.
"""
