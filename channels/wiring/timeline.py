"""Wiring of the timeline area (registered from ChannelsConfig.ready)."""
