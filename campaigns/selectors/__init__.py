"""The campaigns app's selectors, one module per area (segments, campaigns...)."""
