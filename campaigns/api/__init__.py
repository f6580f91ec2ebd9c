"""The campaigns app's api, one module per area (segments, campaigns...)."""
