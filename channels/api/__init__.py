"""REST API of the channels app (mounted under /api/v1/ by crm.api.urls), one module per area."""
