"""The daemon and what operators watch.

The lease, the timers, the catalog watcher, the shop workers, the HTTP endpoint, metrics,
status and alerts; :mod:`~syndicator.service.daemon` composes them.
"""
