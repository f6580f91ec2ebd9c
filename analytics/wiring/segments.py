"""The score conditions of the segment builder (registered without touching the compiler)."""

from analytics.conditions import SCORE_CONDITIONS
from campaigns.segments.registry import condition_register

for _condition in SCORE_CONDITIONS:
    condition_register(_condition)
