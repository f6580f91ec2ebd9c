"""The conditions a segment rule may name, and the operators each kind of value allows.

A condition is a whitelisted name (``orders.count``), a value type that fixes its operators, the
parameters it takes (``days``, ``channel``) and a function that turns a validated node into SQL over
the customer alias ``c``. Other apps add conditions with ``condition_register`` (analytics: RFM cell,
CLV, churn risk) without touching the compiler. SQL returned by a condition names only tables and
columns written in code; every value travels as a query parameter.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Sql = tuple[str, list]

# -- Value types and their operators ----------------------------------------------------------------

TEXT, CHOICE, NUMBER, DATE, BOOLEAN, FLAG, LIST = "text", "choice", "number", "date", "boolean", "flag", "list"

OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "in", "not_in", "contains", "starts_with", "is_set", "is_not_set"),
    CHOICE: ("eq", "ne", "in", "not_in", "is_set", "is_not_set"),
    NUMBER: ("eq", "ne", "lt", "lte", "gt", "gte", "between", "is_set", "is_not_set"),
    DATE: ("eq", "before", "after", "between", "within_last_days", "more_than_days_ago", "is_set", "is_not_set"),
    BOOLEAN: ("is_true", "is_false", "is_set", "is_not_set"),
    FLAG: ("is_true", "is_false"),  # the customer has (or has not) something: a consent, an order...
    LIST: ("in", "not_in"),  # bought / viewed / holds any of these (in) or none of them (not_in)
}

OPERATOR_LABELS: dict[str, Promise] = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "is_set": _("is filled in"),
    "is_not_set": _("is empty"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "between": _("is between"),
    "before": _("is before"),
    "after": _("is after"),
    "within_last_days": _("is within the last … days"),
    "more_than_days_ago": _("is more than … days ago"),
    "is_true": _("yes"),
    "is_false": _("no"),
}

NO_VALUE = {"is_set", "is_not_set", "is_true", "is_false"}
LIST_VALUE = {"in", "not_in"}
MAX_LIST_ITEMS = 1000
MAX_TEXT = 500
MAX_DAYS = 36600


class RuleError(Exception):
    """A rule the compiler refuses; ``path`` names the place in the tree (``rules.all[2].field``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# -- Parameters and conditions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A named argument of a condition (``days``, ``channel``): an int in a range, or one of choices."""

    name: str
    label: str | Promise
    kind: str = "choice"  # "choice" | "int"
    choices: Sequence[tuple[str, Any]] | Callable[[], Sequence[tuple[str, Any]]] = ()
    required: bool = False
    default: Any = None
    minimum: int = 0
    maximum: int = MAX_DAYS

    def choice_list(self) -> list[tuple[str, Any]]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def clean(self, raw: Any, path: str) -> Any:
        if raw in (None, ""):
            if self.required and self.default is None:
                raise RuleError(path, str(_("this parameter is required")))
            return self.default
        if self.kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise RuleError(path, str(_("expected a whole number")))
            try:
                number = int(raw)
            except ValueError:
                raise RuleError(path, str(_("expected a whole number"))) from None
            if not self.minimum <= number <= self.maximum:
                raise RuleError(path, str(_("must be between %(low)s and %(high)s"))
                                % {"low": self.minimum, "high": self.maximum})  # fmt: skip
            return number
        allowed = {str(value) for value, _label in self.choice_list()}
        if not isinstance(raw, str) or raw not in allowed:
            raise RuleError(path, str(_("not one of the allowed values")))
        return raw


@dataclass(frozen=True)
class Node:
    """A condition node after validation: its operator, typed value and parameters."""

    condition: Condition
    op: str
    value: Any
    params: dict[str, Any]
    path: str


@dataclass(frozen=True)
class Condition:
    """One whitelisted condition.

    Give either ``expression(ctx, node) -> (sql, params)`` for a scalar that the generic comparison
    applies the operator to, or ``build(ctx, node) -> (sql, params)`` for a predicate built whole
    (existence tests). A condition with neither is registered but not available yet (its name is
    reserved, the builder hides it and the compiler refuses it with a clear message).
    ``choices`` lists allowed values of a choice or list condition (empty: any value of ``item``).
    """

    name: str
    label: str | Promise
    group: str | Promise
    value_type: str
    params: tuple[Param, ...] = ()
    expression: Callable[..., Sql] | None = None
    build: Callable[..., Sql] | None = None
    choices: Sequence[tuple[str, Any]] | Callable[[], Sequence[tuple[str, Any]]] = ()
    item: str = "text"  # type of a choice/list item: "text" or "int"
    case_sensitive: bool = False
    # Values are checked against ``choices`` when they are a fixed list, or when this says so for a
    # callable one that reads no database (languages); lists read from the database (products,
    # segments) are offered by the builder, not enforced: the compiler stays a pure function.
    validate_choices: bool = False
    help: str | Promise = ""
    order: int = 100

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS[self.value_type]

    @property
    def is_available(self) -> bool:
        return self.expression is not None or self.build is not None

    def choice_list(self) -> list[tuple[str, Any]]:
        return list(self.choices() if callable(self.choices) else self.choices)


_conditions: dict[str, Condition] = {}


def condition_register(condition: Condition) -> None:
    """Add a condition (or replace one of the same name: how a reserved name becomes available)."""
    if condition.value_type not in OPERATORS:
        raise ValueError(f"unknown value type {condition.value_type!r}")
    _conditions[condition.name] = condition


def condition_get(name: str) -> Condition | None:
    from campaigns.segments import fields  # noqa: F401 - the built-in conditions register on import

    return _conditions.get(name)


def conditions_all() -> list[Condition]:
    from campaigns.segments import fields  # noqa: F401

    return sorted(_conditions.values(), key=lambda c: (c.order, c.name))


# -- Values -----------------------------------------------------------------------------------------


def _clean_scalar(value_type: str, raw: Any, path: str, *, item: str = "text", choices=None) -> Any:
    if value_type == NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise RuleError(path, str(_("expected a number")))
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise RuleError(path, str(_("expected a number"))) from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise RuleError(path, str(_("expected a number")))
        return number
    if value_type == DATE:
        if not isinstance(raw, str):
            raise RuleError(path, str(_("expected a date (YYYY-MM-DD)")))
        try:
            return datetime.date.fromisoformat(raw.strip()[:10])
        except ValueError:
            raise RuleError(path, str(_("expected a date (YYYY-MM-DD)"))) from None
    if item == "int":
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise RuleError(path, str(_("expected a whole number")))
        try:
            number = int(raw)
        except ValueError:
            raise RuleError(path, str(_("expected a whole number"))) from None
        if choices is not None and number not in {int(v) for v in choices}:
            raise RuleError(path, str(_("not one of the allowed values")))
        return number
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise RuleError(path, str(_("expected text")))
    text = str(raw)
    if len(text) > MAX_TEXT:
        raise RuleError(path, str(_("longer than %(max)s characters")) % {"max": MAX_TEXT})
    if "\x00" in text:
        raise RuleError(path, str(_("contains a NUL character")))
    if choices is not None and text not in {str(v) for v in choices}:
        raise RuleError(path, str(_("not one of the allowed values")))
    return text


def clean_value(condition_or_type, op: str, raw: Any, path: str) -> Any:
    """The operator's value, typed: a Decimal, a date, a str or int, a list of them, a pair, or None."""
    if isinstance(condition_or_type, Condition):
        value_type, item = condition_or_type.value_type, condition_or_type.item
        validate = not callable(condition_or_type.choices) or condition_or_type.validate_choices
        choice_values = ([value for value, _label in condition_or_type.choice_list()] or None) if validate else None
    else:
        value_type, item, choice_values = condition_or_type, "text", None
    if op in NO_VALUE:
        return None
    if op in ("within_last_days", "more_than_days_ago"):
        return Param("value", "", kind="int", required=True).clean(raw, path)
    if op in LIST_VALUE:
        if not isinstance(raw, list) or not raw:
            raise RuleError(path, str(_("expected a non-empty list")))
        if len(raw) > MAX_LIST_ITEMS:
            raise RuleError(path, str(_("more than %(max)s values")) % {"max": MAX_LIST_ITEMS})
        scalar_type = TEXT if value_type == LIST else value_type
        return [
            _clean_scalar(scalar_type, item_raw, f"{path}[{index}]", item=item, choices=choice_values)
            for index, item_raw in enumerate(raw)
        ]
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise RuleError(path, str(_("expected two values: [from, to]")))
        low, high = (_clean_scalar(value_type, v, f"{path}[{i}]") for i, v in enumerate(raw))
        if low > high:
            raise RuleError(path, str(_("the first value is greater than the second")))
        return [low, high]
    if raw is None:
        raise RuleError(path, str(_("a value is required")))
    return _clean_scalar(value_type, raw, path, item=item, choices=choice_values)


# -- The generic comparison -------------------------------------------------------------------------


@dataclass
class CompileContext:
    """What a compilation depends on besides the tree: the clock and the lookups (no database access)."""

    now: datetime.datetime
    today: datetime.date
    attributes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # key -> (type, choices)
    segment_lookup: Callable[[int], Any] | None = None
    stack: tuple[int, ...] = ()
    depth: int = 0


def compare(expr: str, expr_params: list, value_type: str, op: str, value: Any, *, today: datetime.date,
            case_sensitive: bool = False) -> Sql:  # fmt: skip
    """``expr <op> value`` as SQL. Text comparisons ignore case unless ``case_sensitive``."""
    p = list(expr_params)
    fold = value_type == TEXT and not case_sensitive
    e = f"lower({expr})" if fold else expr

    def v(x):
        return x.lower() if fold and isinstance(x, str) else x

    if op == "is_set":
        return (f"({expr} IS NOT NULL AND {expr} <> '')", p + p) if value_type == TEXT else (f"({expr} IS NOT NULL)", p)
    if op == "is_not_set":
        return (f"({expr} IS NULL OR {expr} = '')", p + p) if value_type == TEXT else (f"({expr} IS NULL)", p)
    if op == "is_true":
        return f"({expr}) IS TRUE", p
    if op == "is_false":
        return f"({expr}) IS FALSE", p
    if op == "eq":
        return f"{e} = %s", [*p, v(value)]
    if op == "ne":
        return f"{e} <> %s", [*p, v(value)]
    if op == "in":
        return f"{e} = ANY(%s)", [*p, [v(x) for x in value]]
    if op == "not_in":
        return f"NOT ({e} = ANY(%s))", [*p, [v(x) for x in value]]
    if op == "contains":
        # strpos, not LIKE: a % or _ typed by the marketer is a character, not a wildcard.
        return f"strpos({e}, %s) > 0", [*p, v(value)]
    if op == "starts_with":
        return f"starts_with({e}, %s)", [*p, v(value)]
    symbols = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "before": "<", "after": ">"}
    if op in symbols:
        return f"{expr} {symbols[op]} %s", [*p, value]
    if op == "between":
        return f"{expr} BETWEEN %s AND %s", [*p, value[0], value[1]]
    if op == "within_last_days":
        return f"{expr} >= %s", [*p, today - datetime.timedelta(days=value)]
    if op == "more_than_days_ago":
        return f"{expr} < %s", [*p, today - datetime.timedelta(days=value)]
    raise RuleError("op", f"unknown operator {op!r}")  # unreachable: operators are validated first
