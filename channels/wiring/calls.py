"""Wiring of the calls area (registered from ChannelsConfig.ready)."""
