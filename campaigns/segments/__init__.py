"""Segment rules: the condition registry, the built-in conditions and the compiler to one SQL query."""
