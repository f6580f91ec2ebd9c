"""Wiring of the web area (registered from ChannelsConfig.ready)."""
