# ruff: noqa: S608 -- table and column names below are written in code (from model metadata); every value
# is a query parameter.
"""The built-in conditions: customer fields, custom attributes, consent, contact points, orders,
contracts, interactions, web events, other segments; campaign responses are reserved names.

Every condition returns SQL over the customer alias ``c``; table and column names come from the
models, values are parameters. Aggregates over a customer's rows are correlated subqueries on the
customer-keyed indexes: PostgreSQL evaluates the cheap column tests of an ``all`` group first, so
the subqueries run only for the customers still in the running.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from campaigns.segments.registry import (
    BOOLEAN,
    CHOICE,
    DATE,
    FLAG,
    LIST,
    NUMBER,
    TEXT,
    CompileContext,
    Condition,
    Node,
    Param,
    RuleError,
    Sql,
    compare,
    condition_register,
)
from channels.choices import Direction, InteractionChannel, InteractionKind, WebEventType
from channels.models import Interaction, WebEvent
from customers.choices import Channel, ConsentStatus, CustomerKind, PreferredChannel, Purpose, Stage
from customers.models import Consent, ContactPoint, Contract, Customer, Order, OrderLine, PostalAddress, Product

CUSTOMER = Customer._meta.db_table
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
CONTRACT = Contract._meta.db_table
CONSENT = Consent._meta.db_table
CONTACT = ContactPoint._meta.db_table
ADDRESS = PostalAddress._meta.db_table
INTERACTION = Interaction._meta.db_table
WEB_EVENT = WebEvent._meta.db_table

NO_ANSWER = "none"
G_CUSTOMER, G_ATTRIBUTES, G_CONSENT = _("Customer"), _("Custom attributes"), _("Consent and reachability")
G_ORDERS, G_CONTRACTS, G_INTERACTIONS = _("Orders"), _("Contracts"), _("Interactions")
G_WEB, G_SEGMENTS, G_CAMPAIGNS = _("Web"), _("Segments"), _("Campaign responses")

DAYS = Param("days", _("within the last … days"), kind="int", minimum=1)
REACH_CHANNELS = [(Channel.EMAIL, Channel.EMAIL.label), (Channel.SMS, Channel.SMS.label),
                  (Channel.PHONE, Channel.PHONE.label), (Channel.POSTAL_MAIL, Channel.POSTAL_MAIL.label)]  # fmt: skip


def local_date(column: str) -> str:
    """A timestamp column as a calendar date in the site's time zone (one parameter: the zone)."""
    return f"({column} AT TIME ZONE %s)::date"


def _tz() -> list:
    return [settings.TIME_ZONE]


def _since(ctx: CompileContext, days: int | None, column: str) -> Sql:
    """`AND column >= start of the day N-1 days ago`: "within the last 1 day" is today."""
    if not days:
        return "", []
    import datetime
    import zoneinfo

    start = datetime.datetime.combine(ctx.today - datetime.timedelta(days=days - 1), datetime.time.min,
                                      tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))  # fmt: skip
    return f" AND {column} >= %s", [start]


def _column(column: str):
    def expression(ctx: CompileContext, node: Node) -> Sql:
        return f"c.{column}", []

    return expression


def _created(ctx: CompileContext, node: Node) -> Sql:
    return local_date("c.created_at"), _tz()


ADDRESS_FIRST = (
    f"(SELECT a.%(col)s FROM {ADDRESS} a WHERE a.customer_id = c.id ORDER BY a.is_primary DESC, a.id LIMIT 1)"
)


def _address(column: str):
    def expression(ctx: CompileContext, node: Node) -> Sql:
        return ADDRESS_FIRST % {"col": column}, []

    return expression


def departement_sql(postcode: str) -> str:
    """The French département of a postcode: 2 digits, 3 overseas (97x, 98x), 2A/2B for Corsica (20xxx)."""
    return (
        f"(CASE WHEN {postcode} ~ '^9[78]' THEN left({postcode}, 3) "
        f"WHEN {postcode} ~ '^20[01]' THEN '2A' WHEN {postcode} ~ '^20' THEN '2B' "
        f"WHEN {postcode} ~ '^[0-9]{{2}}' THEN left({postcode}, 2) END)"
    )


def _departement(ctx: CompileContext, node: Node) -> Sql:
    primary = (f"(SELECT a.postcode FROM {ADDRESS} a WHERE a.customer_id = c.id AND a.country = 'FR' "
               "ORDER BY a.is_primary DESC, a.id LIMIT 1)")  # fmt: skip
    return departement_sql(primary), []


def _tags(ctx: CompileContext, node: Node) -> Sql:
    sql = "c.tags && %s::varchar[]"
    return (sql if node.op == "in" else f"NOT ({sql})"), [node.value]


def _owners() -> list[tuple[int, str]]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    return [(user.pk, user.get_full_name() or user.get_username()) for user in users]


def _languages():
    return list(settings.LANGUAGES)


# -- Custom attributes (the compiler builds one condition per definition) --------------------------

NUMBER_PATTERN = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"


def attribute_condition(key: str, attribute_type: str, choices: list[str]) -> Condition:
    """The condition ``attribute.<key>`` for one ``AttributeDefinition`` (its key travels as a parameter)."""
    value_type = {"number": NUMBER, "date": DATE, "boolean": BOOLEAN, "choice": CHOICE}.get(attribute_type, TEXT)

    def expression(ctx: CompileContext, node: Node) -> Sql:
        raw = "(c.attributes ->> %s)"
        if value_type == NUMBER:
            return f"(CASE WHEN {raw} ~ %s THEN {raw}::numeric END)", [key, NUMBER_PATTERN, key]
        if value_type == DATE:
            # Dates are stored as ISO strings by the record's forms; anything else counts as missing.
            return f"(CASE WHEN {raw} ~ %s THEN left({raw}, 10)::date END)", [key, DATE_PATTERN, key]
        if value_type == BOOLEAN:
            return f"(CASE lower({raw}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END)", [key]
        return raw, [key]

    return Condition(f"attribute.{key}", key, G_ATTRIBUTES, value_type, expression=expression,
                     choices=[(choice, choice) for choice in choices], case_sensitive=value_type == CHOICE,
                     order=200)  # fmt: skip


# -- Consent and reachability ----------------------------------------------------------------------


def _consent(ctx: CompileContext, node: Node) -> Sql:
    return (
        f"COALESCE((SELECT k.status FROM {CONSENT} k WHERE k.customer_id = c.id AND k.channel = %s "
        f"AND k.purpose = %s ORDER BY k.occurred_at DESC, k.id DESC LIMIT 1), '{NO_ANSWER}')"
    ), [node.params["channel"], node.params["purpose"]]


def _reachable(*, deliverable: bool):
    def build(ctx: CompileContext, node: Node) -> Sql:
        channel = node.params["channel"]
        ok = " AND NOT x.is_undeliverable" if deliverable else ""
        if channel == Channel.POSTAL_MAIL:
            sql = f"EXISTS (SELECT 1 FROM {ADDRESS} x WHERE x.customer_id = c.id{ok})"
            params: list = []
        else:
            kinds = {Channel.EMAIL: ["email"], Channel.SMS: ["mobile"], Channel.PHONE: ["phone", "mobile"]}[channel]
            sql = f"EXISTS (SELECT 1 FROM {CONTACT} x WHERE x.customer_id = c.id AND x.kind = ANY(%s){ok})"
            params = [kinds]
        return (sql if node.op == "is_true" else f"NOT {sql}"), params

    return build


# -- Orders ----------------------------------------------------------------------------------------

# Cancelled orders were never bought: every order condition leaves them out.
LIVE_ORDER = "o.status <> 'cancelled'"
SALES_CHANNEL = Param("sales_channel", _("sold through"), choices=Order.SalesChannel.choices)


def _order_filter(ctx: CompileContext, node: Node) -> Sql:
    sql, params = f"o.customer_id = c.id AND {LIVE_ORDER}", []
    since, since_params = _since(ctx, node.params.get("days"), "o.placed_at")
    sql, params = sql + since, params + since_params
    if node.params.get("sales_channel"):
        sql, params = sql + " AND o.sales_channel = %s", [*params, node.params["sales_channel"]]
    return sql, params


def _capped_count(table: str, where: str, params: list, node: Node) -> Sql:
    """count(*), stopping at the threshold for >= / > (">= 2 orders" reads 2 rows, not 200)."""
    if node.op in ("gte", "gt") and node.value >= 0:
        cap = int(node.value) + 1
        return f"(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT {cap}) capped)", params
    return f"(SELECT count(*) FROM {table} WHERE {where})", params


def _orders_count(ctx: CompileContext, node: Node) -> Sql:
    where, params = _order_filter(ctx, node)
    return _capped_count(f"{ORDER} o", where, params, node)


def _orders_total(ctx: CompileContext, node: Node) -> Sql:
    where, params = _order_filter(ctx, node)
    return f"(SELECT COALESCE(sum(o.total_amount), 0) FROM {ORDER} o WHERE {where})", params


def _orders_last(ctx: CompileContext, node: Node) -> Sql:
    where, params = _order_filter(ctx, node)
    return f"(SELECT {local_date('max(o.placed_at)')} FROM {ORDER} o WHERE {where})", [*_tz(), *params]


def _order_lines(match: str):
    def build(ctx: CompileContext, node: Node) -> Sql:
        where, params = _order_filter(ctx, node)
        sql = (f"EXISTS (SELECT 1 FROM {LINE} l JOIN {ORDER} o ON o.customer_id = l.customer_id AND o.id = l.order_id "
               f"WHERE l.customer_id = c.id AND {match} AND {where})")  # fmt: skip
        return (sql if node.op == "in" else f"NOT {sql}"), [node.value, *params]

    return build


def _orders_channel(ctx: CompileContext, node: Node) -> Sql:
    where, params = _order_filter(ctx, node)
    sql = f"EXISTS (SELECT 1 FROM {ORDER} o WHERE o.sales_channel = ANY(%s) AND {where})"
    return (sql if node.op == "in" else f"NOT {sql}"), [node.value, *params]


def _products():
    return [(p.sku, f"{p.name} ({p.sku})") for p in Product.objects.filter(is_active=True).order_by("name")[:500]]


def _categories():
    values = Product.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct()
    return [(value, value) for value in values[:500]]


# -- Contracts -------------------------------------------------------------------------------------

ACTIVE_CONTRACT = "t.status = 'active' AND (t.end_date IS NULL OR t.end_date >= %s)"


def _contracts_active(ctx: CompileContext, node: Node) -> Sql:
    sql = f"EXISTS (SELECT 1 FROM {CONTRACT} t WHERE t.customer_id = c.id AND {ACTIVE_CONTRACT})"
    return (sql if node.op == "is_true" else f"NOT {sql}"), [ctx.today]


def _contracts_plan(ctx: CompileContext, node: Node) -> Sql:
    sql = f"EXISTS (SELECT 1 FROM {CONTRACT} t WHERE t.customer_id = c.id AND {ACTIVE_CONTRACT} AND t.plan = ANY(%s))"
    return (sql if node.op == "in" else f"NOT {sql}"), [ctx.today, node.value]


def _plans():
    values = Contract.objects.order_by("plan").values_list("plan", flat=True).distinct()
    return [(value, value) for value in values[:500]]


# -- Interactions ----------------------------------------------------------------------------------

INTERACTION_PARAMS = (
    Param("channel", _("channel"), choices=InteractionChannel.choices),
    Param("kind", _("kind"), choices=InteractionKind.choices),
    Param("direction", _("direction"), choices=Direction.choices),
)


def _interaction_filter(ctx: CompileContext, node: Node) -> Sql:
    sql, params = "i.customer_id = c.id", []
    for name in ("channel", "kind", "direction"):
        if node.params.get(name):
            sql, params = f"{sql} AND i.{name} = %s", [*params, node.params[name]]
    since, since_params = _since(ctx, node.params.get("days"), "i.occurred_at")
    return sql + since, params + since_params


def _interactions_count(ctx: CompileContext, node: Node) -> Sql:
    where, params = _interaction_filter(ctx, node)
    return _capped_count(f"{INTERACTION} i", where, params, node)


def _interactions_last(ctx: CompileContext, node: Node) -> Sql:
    where, params = _interaction_filter(ctx, node)
    return f"(SELECT {local_date('max(i.occurred_at)')} FROM {INTERACTION} i WHERE {where})", [*_tz(), *params]


# -- Web events ------------------------------------------------------------------------------------


def _web_where(ctx: CompileContext, node: Node, event_type: str) -> Sql:
    since, params = _since(ctx, node.params.get("days"), "w.occurred_at")
    return f"w.customer_id = c.id AND w.event_type = %s{since}", [event_type, *params]


def _web_page(ctx: CompileContext, node: Node) -> Sql:
    where, params = _web_where(ctx, node, WebEventType.PAGE_VIEW)
    test, test_params = compare("w.url", [], TEXT, node.op, node.value, today=ctx.today)
    return f"EXISTS (SELECT 1 FROM {WEB_EVENT} w WHERE {where} AND {test})", [*params, *test_params]


def _web_product(ctx: CompileContext, node: Node) -> Sql:
    where, params = _web_where(ctx, node, WebEventType.PRODUCT_VIEW)
    sql = f"EXISTS (SELECT 1 FROM {WEB_EVENT} w WHERE {where} AND w.product_sku = ANY(%s))"
    return (sql if node.op == "in" else f"NOT {sql}"), [*params, node.value]


def _web_abandoned_cart(ctx: CompileContext, node: Node) -> Sql:
    """An abandoned-cart event, or a cart addition that no order followed."""
    since, params = _since(ctx, node.params.get("days"), "w.occurred_at")
    sql = (
        f"EXISTS (SELECT 1 FROM {WEB_EVENT} w WHERE w.customer_id = c.id{since} AND (w.event_type = %s "
        f"OR (w.event_type = %s AND NOT EXISTS (SELECT 1 FROM {ORDER} o WHERE o.customer_id = c.id "
        f"AND {LIVE_ORDER} AND o.placed_at >= w.occurred_at))))"
    )
    params = [*params, WebEventType.CART_ABANDON, WebEventType.CART_ADD]
    return (sql if node.op == "is_true" else f"NOT {sql}"), params


# -- Other segments --------------------------------------------------------------------------------


def _segments():
    from campaigns.models import Segment

    return [(s.pk, s.name) for s in Segment.objects.filter(is_archived=False).order_by("name")]


def _segment_member(ctx: CompileContext, node: Node) -> Sql:
    """Inline the other segment's rules when it is dynamic (fresh), read its members when static."""
    from campaigns.segments.compiler import compile_predicate

    if node.op not in ("eq", "ne"):  # membership is yes or no: "is" or "is not" one segment
        raise RuleError(node.path + ".op", str(_("operator not allowed for this field (allowed: eq, ne)")))
    segment_id = node.value
    if segment_id in ctx.stack:
        raise RuleError(node.path + ".value", str(_("this segment refers back to itself (a cycle): refused")))
    other = ctx.segment_lookup(segment_id) if ctx.segment_lookup else None
    if other is None:
        raise RuleError(node.path + ".value", str(_("no such segment")))
    if other.kind == "static":
        from campaigns.models import SegmentMember

        table = SegmentMember._meta.db_table
        sql, params = f"EXISTS (SELECT 1 FROM {table} m WHERE m.segment_id = %s AND m.customer_id = c.id)", [other.pk]
    else:
        inner = CompileContext(now=ctx.now, today=ctx.today, attributes=ctx.attributes,
                               segment_lookup=ctx.segment_lookup, stack=(*ctx.stack, segment_id),
                               depth=ctx.depth + 1)  # fmt: skip
        try:
            sql, params = compile_predicate(other.rules, ctx=inner)
        except RuleError as error:
            if "cycle" in error.message:
                raise RuleError(node.path + ".value", error.message) from None
            raise RuleError(node.path + ".value", str(_("the rules of segment “%(name)s” are invalid: %(error)s"))
                            % {"name": other.name, "error": error}) from None  # fmt: skip
        sql = f"({sql})"
    return (sql if node.op == "eq" else f"NOT {sql}"), params


# -- The registry ----------------------------------------------------------------------------------

CHANNEL = Param("channel", _("channel"), choices=REACH_CHANNELS, required=True)
BUILT_IN = [
    Condition("customer.kind", _("kind"), G_CUSTOMER, CHOICE, expression=_column("kind"),
              choices=CustomerKind.choices, case_sensitive=True, order=10),
    Condition("customer.stage", _("life-cycle stage"), G_CUSTOMER, CHOICE, expression=_column("stage"),
              choices=Stage.choices, case_sensitive=True, order=11),
    Condition("customer.language", _("language"), G_CUSTOMER, CHOICE, expression=_column("language"),
              choices=_languages, case_sensitive=True, validate_choices=True, order=12),
    Condition("customer.owner", _("owner"), G_CUSTOMER, CHOICE, expression=_column("owner_id"), item="int",
              order=13),
    Condition("customer.preferred_channel", _("preferred channel"), G_CUSTOMER, CHOICE,
              expression=_column("preferred_channel"), choices=PreferredChannel.choices, case_sensitive=True,
              order=14),
    Condition("customer.created", _("created on"), G_CUSTOMER, DATE, expression=_created, order=15),
    Condition("customer.birth_date", _("birth date"), G_CUSTOMER, DATE, expression=_column("birth_date"), order=16),
    Condition("customer.tags", _("tags"), G_CUSTOMER, LIST, build=_tags, case_sensitive=True, order=17),
    Condition("customer.postcode", _("postcode"), G_CUSTOMER, TEXT, expression=_address("postcode"), order=20),
    Condition("customer.departement", _("département"), G_CUSTOMER, TEXT, expression=_departement, order=21,
              help=_("French département of the postcode: 75, 2A, 974…")),
    Condition("customer.city", _("city"), G_CUSTOMER, TEXT, expression=_address("city"), order=22),
    Condition("customer.country", _("country"), G_CUSTOMER, TEXT, expression=_address("country"), order=23,
              help=_("ISO code, e.g. FR")),
    Condition("consent", _("consent"), G_CONSENT, CHOICE, expression=_consent, case_sensitive=True, order=30,
              params=(CHANNEL, Param("purpose", _("purpose"), choices=Purpose.choices, default=Purpose.MARKETING)),
              choices=[*ConsentStatus.choices, (NO_ANSWER, _("no answer recorded"))]),
    Condition("contact.present", _("has a contact point"), G_CONSENT, FLAG, build=_reachable(deliverable=False),
              params=(CHANNEL,), order=31),
    Condition("contact.deliverable", _("has a deliverable contact point"), G_CONSENT, FLAG,
              build=_reachable(deliverable=True), params=(CHANNEL,), order=32),
    Condition("orders.count", _("number of orders"), G_ORDERS, NUMBER, expression=_orders_count,
              params=(DAYS, SALES_CHANNEL), order=40),
    Condition("orders.total", _("total spent"), G_ORDERS, NUMBER, expression=_orders_total,
              params=(DAYS, SALES_CHANNEL), order=41),
    Condition("orders.last_date", _("last order date"), G_ORDERS, DATE, expression=_orders_last,
              params=(SALES_CHANNEL,), order=42),
    Condition("orders.product", _("bought product"), G_ORDERS, LIST, build=_order_lines("l.sku = ANY(%s)"),
              choices=_products, case_sensitive=True, params=(DAYS,), order=43),
    Condition("orders.category", _("bought in category"), G_ORDERS, LIST,
              build=_order_lines(f"l.product_id IN (SELECT p.id FROM {PRODUCT} p WHERE p.category = ANY(%s))"),
              choices=_categories, case_sensitive=True, params=(DAYS,), order=44),
    Condition("orders.sales_channel", _("bought through"), G_ORDERS, LIST, build=_orders_channel,
              choices=Order.SalesChannel.choices, case_sensitive=True, params=(DAYS,), order=45),
    Condition("contracts.active", _("has an active contract"), G_CONTRACTS, FLAG, build=_contracts_active,
              order=50),
    Condition("contracts.plan", _("active contract on plan"), G_CONTRACTS, LIST, build=_contracts_plan,
              choices=_plans, case_sensitive=True, order=51),
    Condition("interactions.count", _("number of interactions"), G_INTERACTIONS, NUMBER,
              expression=_interactions_count, params=(*INTERACTION_PARAMS, DAYS), order=60),
    Condition("interactions.last_date", _("last interaction date"), G_INTERACTIONS, DATE,
              expression=_interactions_last, params=INTERACTION_PARAMS, order=61),
    Condition("web.viewed_page", _("viewed a page whose address"), G_WEB, TEXT, build=_web_page, params=(DAYS,),
              order=70),
    Condition("web.viewed_product", _("viewed product"), G_WEB, LIST, build=_web_product, choices=_products,
              case_sensitive=True, params=(DAYS,), order=71),
    Condition("web.abandoned_cart", _("abandoned a cart"), G_WEB, FLAG, build=_web_abandoned_cart, params=(DAYS,),
              order=72),
    Condition("segment", _("member of segment"), G_SEGMENTS, CHOICE, build=_segment_member, choices=_segments,
              item="int", order=80),
]  # fmt: skip

# Reserved until the outbox has messages: the campaigns' module registers the SQL under these names.
CAMPAIGN_RESPONSES = [
    ("campaign.received", _("received a campaign message")),
    ("campaign.opened", _("opened a campaign message")),
    ("campaign.clicked", _("clicked in a campaign message")),
    ("campaign.unsubscribed", _("unsubscribed from a campaign message")),
]
CAMPAIGN_PARAM = Param("campaign", _("campaign"), kind="int", minimum=1, maximum=2**31 - 1)

for _condition in BUILT_IN:
    condition_register(_condition)
for _name, _label in CAMPAIGN_RESPONSES:
    condition_register(Condition(_name, _label, G_CAMPAIGNS, FLAG, params=(CAMPAIGN_PARAM, DAYS), order=90))
