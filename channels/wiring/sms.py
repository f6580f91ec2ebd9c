"""Wiring of the sms area (registered from ChannelsConfig.ready)."""
