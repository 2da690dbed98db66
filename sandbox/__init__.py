"""Sandbox marketplaces: local emulators of Amazon SP-API, Etsy v3 and an ANOU-style API.

Served by uvicorn on loopback (``syndicator sandbox``, or :class:`Sandbox` in-process for
tests), held to the official API models in ``specs/``, with each marketplace's quotas, fault
injection and a control API under ``/_sandbox/``. See docs/sandbox.md.
"""

from __future__ import annotations

from sandbox.faults import Fault, FaultPlan
from sandbox.server import EMULATORS, Sandbox

__all__ = ["EMULATORS", "Fault", "FaultPlan", "Sandbox"]
