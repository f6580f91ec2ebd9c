"""Wiring of the chat area (registered from ChannelsConfig.ready)."""
