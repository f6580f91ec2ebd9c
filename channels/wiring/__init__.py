"""Each module registers one area's panels, composer actions, sidebar entries and hooks (imported by
ChannelsConfig.ready)."""
