# ruff: noqa: S608 -- the SQL is assembled from fragments written in code (registry conditions); every value
# from the rule tree is a query parameter.
"""Compile a segment's rule tree into ONE parameterised SQL query over live customers.

A pure function: it reads no database (the clock, the custom attribute definitions and the lookup of
other segments are arguments). The tree is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": node}``
or a condition ``{"field": name, "op": operator, "value": ..., <parameter>: ...}``. Field, operator
and parameter names must come from the registry's whitelist; anything else is refused with a
``RuleError`` naming the path (``rules.all[2].field``).

Logic (docs/campaigns.md, "Segments"): every condition is two-valued. A comparison with a missing
value (no postcode, attribute not set, no order yet for "last order date") is false, whatever the
operator, ``ne`` and ``not_in`` included; ``not`` is then the exact complement. An empty ``all``
matches everyone, an empty ``any`` no one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from campaigns.segments.registry import (
    CompileContext,
    Condition,
    Node,
    RuleError,
    clean_value,
    compare,
    condition_get,
)

GROUPS = ("all", "any", "not")
RESERVED_KEYS = {"field", "op", "value"}
MAX_DEPTH = 8
MAX_NODES = 200
MAX_SEGMENT_NESTING = 4
LIVE = "c.merged_into_id IS NULL AND c.anonymised_at IS NULL"


@dataclass(frozen=True)
class SegmentRef:
    """What the compiler needs to know of another segment a rule names."""

    pk: int
    name: str
    kind: str
    rules: dict


@dataclass(frozen=True)
class CompiledSegment:
    """The WHERE clause over the customer alias ``c`` and its parameters."""

    where: str
    params: list

    def select_ids(self) -> tuple[str, list]:
        """``SELECT c.id AS customer_id`` of every live customer matching."""
        from customers.models import Customer

        return f"SELECT c.id AS customer_id FROM {Customer._meta.db_table} c WHERE {self.where}", list(self.params)

    def count(self) -> tuple[str, list]:
        from customers.models import Customer

        return f"SELECT count(*) FROM {Customer._meta.db_table} c WHERE {self.where}", list(self.params)


def segment_compile(rules: Any, *, now: datetime.datetime, today: datetime.date | None = None,
                    attributes: dict[str, tuple[str, list[str]]] | None = None,
                    segment_lookup=None, segment_id: int | None = None) -> CompiledSegment:  # fmt: skip
    """Return the compiled query for ``rules``; raise ``RuleError`` for anything outside the whitelist.

    ``attributes`` maps custom attribute keys to ``(type, choices)``; ``segment_lookup(pk)`` returns a
    ``SegmentRef`` or None; ``segment_id`` is the segment being compiled (a rule naming it, directly
    or through other segments, is a cycle).
    """
    import zoneinfo

    from django.conf import settings

    if today is None:
        today = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
    ctx = CompileContext(now=now, today=today, attributes=attributes or {}, segment_lookup=segment_lookup,
                         stack=(segment_id,) if segment_id else ())  # fmt: skip
    where, params = compile_predicate(rules, ctx=ctx)
    return CompiledSegment(where=f"{LIVE} AND ({where})", params=params)


def compile_predicate(rules: Any, *, ctx: CompileContext) -> tuple[str, list]:
    """The predicate of a whole tree (used for nested segments too)."""
    if ctx.depth > MAX_SEGMENT_NESTING:
        raise RuleError("rules", _("segments nest more than %(max)s levels deep") % {"max": MAX_SEGMENT_NESTING})
    counter = [0]
    return _node(rules, "rules", ctx, depth=0, counter=counter)


def _node(node: Any, path: str, ctx: CompileContext, *, depth: int, counter: list[int]) -> tuple[str, list]:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise RuleError(path, _("more than %(max)s conditions and groups") % {"max": MAX_NODES})
    if depth > MAX_DEPTH:
        raise RuleError(path, _("groups nest more than %(max)s levels deep") % {"max": MAX_DEPTH})
    if not isinstance(node, dict):
        raise RuleError(path, _("expected a group or a condition (an object)"))
    groups = [key for key in GROUPS if key in node]
    if groups:
        if len(node) != 1:
            extra = sorted(set(node) - {groups[0]}, key=str)[0]
            raise RuleError(f"{path}.{extra}", _("a group holds one key: all, any or not"))
        key = groups[0]
        if key == "not":
            sql, params = _node(node["not"], f"{path}.not", ctx, depth=depth + 1, counter=counter)
            return f"NOT ({sql})", params
        children = node[key]
        if not isinstance(children, list):
            raise RuleError(f"{path}.{key}", _("expected a list of conditions and groups"))
        if not children:
            return ("TRUE" if key == "all" else "FALSE"), []
        parts, params = [], []
        for index, child in enumerate(children):
            sql, child_params = _node(child, f"{path}.{key}[{index}]", ctx, depth=depth + 1, counter=counter)
            parts.append(f"({sql})")
            params.extend(child_params)
        return (" AND " if key == "all" else " OR ").join(parts), params
    return _condition(node, path, ctx)


def condition_for(name: Any, ctx: CompileContext) -> Condition | None:
    if not isinstance(name, str):
        return None
    if name.startswith("attribute."):
        key = name.removeprefix("attribute.")
        if key not in ctx.attributes:
            return None
        from campaigns.segments.fields import attribute_condition

        attribute_type, choices = ctx.attributes[key]
        return attribute_condition(key, attribute_type, choices)
    return condition_get(name)


def _condition(node: dict, path: str, ctx: CompileContext) -> tuple[str, list]:
    if "field" not in node:
        keys = sorted(map(str, node)) or ["field"]
        raise RuleError(f"{path}.{keys[0]}" if node else f"{path}.field",
                        _("expected “all”, “any”, “not” or a condition with “field”"))  # fmt: skip
    condition = condition_for(node["field"], ctx)
    if condition is None:
        raise RuleError(f"{path}.field", _("unknown field"))
    if not condition.is_available:
        raise RuleError(f"{path}.field", _("this condition is not available yet"))
    op = node.get("op")
    if not isinstance(op, str) or op not in condition.operators:
        raise RuleError(f"{path}.op", _("operator not allowed for this field (allowed: %(ops)s)")
                        % {"ops": ", ".join(condition.operators)})  # fmt: skip
    allowed_params = {param.name: param for param in condition.params}
    for key in node:
        if key not in RESERVED_KEYS and key not in allowed_params:
            raise RuleError(f"{path}.{key}", _("unknown parameter for this field"))
    params = {name: param.clean(node.get(name), f"{path}.{name}") for name, param in allowed_params.items()}
    value = clean_value(condition, op, node.get("value"), f"{path}.value")
    validated = Node(condition=condition, op=op, value=value, params=params, path=path)
    if condition.build is not None:
        sql, sql_params = condition.build(ctx, validated)
    else:
        expr, expr_params = condition.expression(ctx, validated)
        sql, sql_params = compare(expr, expr_params, condition.value_type, op, value, today=ctx.today,
                                  case_sensitive=condition.case_sensitive)  # fmt: skip
    # Two-valued logic: a comparison with NULL is false, so that ``not`` is the exact complement.
    return f"COALESCE(({sql}), FALSE)", sql_params
