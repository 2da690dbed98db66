"""The reconcile pass, and how it opens connectors.

Orders in, the plan out to every channel, each outcome recorded: one unit of work per
cooperative that could run in any process.
"""
