"""Wiring of the desk area (registered from ChannelsConfig.ready)."""
