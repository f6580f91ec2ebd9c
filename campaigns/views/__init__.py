"""The campaigns app's views, one module per area (segments, campaigns...)."""
