"""The campaigns app's services, one module per area (segments, campaigns...)."""
