"""What the segment builder offers: every available condition of the registry (and one per custom
attribute), its operators with their labels, its parameters and the values it may take.

The builder never lets anyone type a field name: it picks from this list, and the compiler still
checks every name against the whitelist.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from campaigns.segments.fields import attribute_condition
from campaigns.segments.registry import (
    LIST_VALUE,
    NO_VALUE,
    OPERATOR_LABELS,
    Condition,
    conditions_all,
)
from campaigns.services.segments import attribute_types

# Operators whose value is a number of days, not a value of the field's type.
DAYS_VALUE = {"within_last_days", "more_than_days_ago"}
# Membership of another segment: only "is" / "is not" make sense.
SEGMENT_OPERATORS = ("eq", "ne")
SEGMENT_LABELS = {"eq": _("is a member of"), "ne": _("is not a member of")}


def _value_kind(condition: Condition, op: str) -> str:
    """The value widget an operator needs: none, days, pair, many, or one."""
    if op in NO_VALUE:
        return "none"
    if op in DAYS_VALUE:
        return "days"
    if op == "between":
        return "pair"
    if op in LIST_VALUE:
        return "many"
    return "one"


def _condition_entry(condition: Condition) -> dict:
    is_segment = condition.name == "segment"
    operators = SEGMENT_OPERATORS if is_segment else condition.operators
    labels = {op: str(SEGMENT_LABELS[op]) if is_segment else str(OPERATOR_LABELS[op]) for op in operators}
    return {
        "name": condition.name,
        "label": str(condition.label),
        "group": str(condition.group),
        "type": condition.value_type,
        "item": condition.item,
        "help": str(condition.help),
        "ops": [{"value": op, "label": labels[op], "value_kind": _value_kind(condition, op)} for op in operators],
        "choices": [[str(value), str(label)] for value, label in condition.choice_list()],
        "params": [
            {
                "name": param.name, "label": str(param.label), "kind": param.kind, "required": param.required,
                "default": param.default, "min": param.minimum, "max": param.maximum,
                "choices": [[str(value), str(label)] for value, label in param.choice_list()],
            }
            for param in condition.params
        ],
    }  # fmt: skip


def builder_fields() -> list[dict]:
    """Every condition a marketer may pick, in the registry's order, custom attributes after the
    customer's own fields; reserved (not yet available) conditions are left out."""
    conditions = [condition for condition in conditions_all() if condition.is_available]
    attributes = [attribute_condition(key, kind, choices) for key, (kind, choices) in sorted(attribute_types().items())]
    return [_condition_entry(condition) for condition in [*conditions, *attributes]]


def builder_labels() -> dict:
    """The builder's own words (JS reads them from the page: one translation catalogue)."""
    return {
        "all": _("all of these"), "any": _("any of these"), "not": _("none of these"),
        "match": _("Customers matching"), "add_condition": _("Add a condition"), "add_group": _("Add a group"),
        "remove": _("Remove"), "field": _("Field"), "operator": _("Operator"), "value": _("Value"),
        "choose_field": _("Choose a field…"), "and": _("and"), "days": _("days"), "any_value": _("any"),
        "many_hint": _("Separate values with commas"), "empty": _("No condition yet: every customer matches."),
    }  # fmt: skip
