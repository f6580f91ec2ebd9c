"""HTML routes of the channels app, one module per area (collected by channels.urls)."""
