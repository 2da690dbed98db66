"""Marketplace connectors. Each package describes its marketplace with a ChannelType.

The push, pull and read-back parts of the interface arrive with the connectors themselves
(issue 4); today each package declares what the core needs to check a config and to plan.
"""
