"""Wiring of the email area (registered from ChannelsConfig.ready)."""
