"""Date and number formats Relais uses instead of Django's defaults (settings.FORMAT_MODULE_PATH)."""
