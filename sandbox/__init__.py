"""Sandbox marketplaces: local emulators of Amazon SP-API, Etsy v3 and an ANOU-style API.

Served by uvicorn on loopback (``syndicator sandbox``, or :class:`Sandbox` in-process for
tests), held to the official API models in ``specs/``, with each marketplace's quotas, fault
injection and a control API under ``/_sandbox/``. See docs/sandbox.md.

A plugin of Syndicator (:data:`SANDBOX`, entry point group ``syndicator.sandboxes``): the
core reaches it through :func:`syndicator.plugins.load_sandbox`, never by its name.
"""

from __future__ import annotations

from sandbox.faults import Fault, FaultPlan
from sandbox.server import EMULATORS, Sandbox
from syndicator.plugins import SandboxType

__all__ = ["EMULATORS", "SANDBOX", "Fault", "FaultPlan", "Sandbox"]

SANDBOX = SandboxType(
    name="marketplaces",
    title="Amazon SP-API, Etsy v3 and ANOU-style emulators",
    serve="sandbox.server:serve",
    start="sandbox.demo:start",
)
