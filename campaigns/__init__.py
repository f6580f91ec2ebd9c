"""Segments, cross-channel campaigns and journeys, templates, the outbox, contact pressure, leads."""
