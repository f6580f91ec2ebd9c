"""Writes of the analytics app: the nightly scores, the recommendations and the offers shown."""
