"""Every contact on every channel: the timeline, conversations, cases, inbound adapters and outbound transports."""
