"""What each campaigns area plugs into the rest of Relais (sidebar, merge hooks), imported by apps.py."""
