"""Wiring of the postal area (registered from ChannelsConfig.ready)."""
