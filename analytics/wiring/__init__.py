"""What the analytics app hooks into from ``AnalyticsConfig.ready()``: segment conditions, 360 panels."""
