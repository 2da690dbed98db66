"""The connector interface, as far as the core uses it today.

A connector package exposes ``CHANNEL_TYPE`` (a :class:`syndicator.channels.ChannelType`)
and registers it under the ``syndicator.channel_types`` entry point group. The settings model
of each type validates the ``settings:`` block of a channel in the daemon config.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from syndicator.channels import Capability, ChannelType

__all__ = ["Capability", "ChannelType", "Settings"]


class Settings(BaseModel):
    """Base of every connector's settings: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Scales the quotas Syndicator keeps to: only for a sandbox started with --quota-factor.
    quota_factor: float = Field(default=1.0, gt=0, le=10_000)
