"""API routes per area (collected by channels.api.urls)."""
