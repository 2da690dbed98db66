"""The daemon and what operators watch.

Scheduler, catalog watcher, shop workers, the HTTP endpoint, metrics, status and alerts.
"""
