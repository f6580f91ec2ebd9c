"""The segment compiler: whitelist and paths (pure, no database), then every operator on real rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.segments.compiler import SegmentRef, segment_compile
from campaigns.segments.registry import OPERATORS, RuleError, conditions_all
from customers.models import Customer
from tests.campaigns_factories import SegmentFactory, SegmentMemberFactory, StaticSegmentFactory
from tests.channels_factories import InteractionFactory
from tests.customers_factories import (
    AddressFactory,
    ConsentFactory,
    ContractFactory,
    CustomerFactory,
    EmailFactory,
    MobileFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

NOW = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)


def compile_(rules, **kwargs):
    return segment_compile(rules, now=NOW, **kwargs)


def refused(rules, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as caught:
        compile_(rules, **kwargs)
    return caught.value


# -- Whitelist and paths (pure) ---------------------------------------------------------------------


def test_it_names_the_path_of_an_unknown_field():
    rules = {"all": [{"field": "customer.stage", "op": "eq", "value": "lead"},
                     {"field": "customer.kind", "op": "eq", "value": "person"},
                     {"field": "password", "op": "eq", "value": "x"}]}  # fmt: skip
    assert refused(rules).path == "rules.all[2].field"


def test_it_names_the_path_inside_nested_groups():
    rules = {"any": [{"not": {"all": [{"field": "customer.stage", "op": "like", "value": "x"}]}}]}
    assert refused(rules).path == "rules.any[0].not.all[0].op"


def test_it_refuses_an_operator_of_another_type():
    assert refused({"all": [{"field": "orders.count", "op": "contains", "value": "1"}]}).path == "rules.all[0].op"


def test_it_refuses_an_unknown_parameter_and_a_bad_parameter_value():
    assert refused({"all": [{"field": "customer.stage", "op": "eq", "value": "lead", "table": "auth_user"}]}
                   ).path == "rules.all[0].table"  # fmt: skip
    assert refused({"all": [{"field": "consent", "op": "eq", "value": "granted", "channel": "pigeon"}]}
                   ).path == "rules.all[0].channel"  # fmt: skip
    assert refused({"all": [{"field": "orders.count", "op": "gte", "value": 1, "days": "90; DROP"}]}
                   ).path == "rules.all[0].days"  # fmt: skip


def test_it_refuses_values_of_the_wrong_type():
    assert refused({"all": [{"field": "orders.total", "op": "gt", "value": "lots"}]}).path == "rules.all[0].value"
    assert refused({"all": [{"field": "customer.created", "op": "after", "value": "yesterday"}]}
                   ).path == "rules.all[0].value"  # fmt: skip
    assert refused({"all": [{"field": "customer.stage", "op": "in", "value": []}]}).path == "rules.all[0].value"
    assert refused({"all": [{"field": "customer.stage", "op": "eq", "value": "emperor"}]}).path == "rules.all[0].value"
    reversed_range = {"all": [{"field": "orders.total", "op": "between", "value": [10, 5]}]}
    assert refused(reversed_range).path == "rules.all[0].value"


def test_it_refuses_malformed_groups():
    assert refused(["all"]).path == "rules"
    assert refused({"all": {"field": "customer.stage"}}).path == "rules.all"
    assert refused({"all": [], "any": []}).path == "rules.any"
    assert refused({"all": [{}]}).path == "rules.all[0].field"


def test_it_refuses_a_reserved_campaign_condition_until_it_is_available():
    error = refused({"all": [{"field": "campaign.opened", "op": "is_true"}]})
    assert error.path == "rules.all[0].field" and "not available" in error.message


def test_it_refuses_an_unknown_custom_attribute_and_accepts_a_defined_one():
    assert refused({"all": [{"field": "attribute.secret", "op": "is_set"}]}).path == "rules.all[0].field"
    compiled = compile_({"all": [{"field": "attribute.vip", "op": "is_true"}]}, attributes={"vip": ("boolean", [])})
    assert "vip" in compiled.params and "vip" not in compiled.where


def test_it_passes_every_value_as_a_parameter():
    evil = "x'); DROP TABLE customers_customer; --"
    compiled = compile_({"all": [{"field": "customer.city", "op": "eq", "value": evil},
                                 {"field": "customer.tags", "op": "in", "value": [evil]},
                                 {"field": "web.viewed_page", "op": "contains", "value": evil}]})  # fmt: skip
    assert "DROP" not in compiled.where
    assert evil.lower() in compiled.params


def test_it_refuses_injection_in_field_and_operator_names():
    for name in ["customer.stage; DROP TABLE x", "customer.stage--", "c.id) OR (1=1", "attribute.x') OR ('1"]:
        assert refused({"all": [{"field": name, "op": "eq", "value": "lead"}]}).path == "rules.all[0].field"
    for op in ["eq; DELETE", "= ANY", "IS NOT NULL OR TRUE"]:
        assert refused({"all": [{"field": "customer.stage", "op": op, "value": "lead"}]}).path == "rules.all[0].op"


def test_it_refuses_a_segment_cycle_with_a_clear_error():
    segments = {1: SegmentRef(1, "A", "dynamic", {"all": [{"field": "segment", "op": "eq", "value": 2}]}),
                2: SegmentRef(2, "B", "dynamic", {"all": [{"field": "segment", "op": "eq", "value": 1}]})}  # fmt: skip
    error = refused(segments[1].rules, segment_lookup=segments.get, segment_id=1)
    assert error.path == "rules.all[0].value" and "cycle" in error.message
    itself = {"all": [{"field": "segment", "op": "eq", "value": 5}]}
    lookup = {5: SegmentRef(5, "Self", "dynamic", itself)}.get
    assert "cycle" in refused(itself, segment_lookup=lookup, segment_id=5).message


def test_it_limits_the_size_of_a_tree():
    assert "more than" in refused({"all": [{"field": "customer.stage", "op": "eq", "value": "lead"}] * 250}).message
    deep = {"field": "customer.stage", "op": "eq", "value": "lead"}
    for _ in range(12):
        deep = {"not": deep}
    assert "nest" in refused(deep).message


@pytest.mark.django_db
def test_every_registered_condition_compiles_with_each_of_its_operators():
    samples = {"text": "abc", "number": 3, "date": "2026-01-01"}
    for condition in conditions_all():
        if not condition.is_available or condition.name == "segment":
            continue
        choices = condition.choice_list()
        for op in OPERATORS[condition.value_type]:
            node = {"field": condition.name, "op": op}
            for param in condition.params:
                if param.required:
                    node[param.name] = param.choice_list()[0][0] if param.kind == "choice" else 1
            scalar = choices[0][0] if choices else samples.get(condition.value_type, "abc")
            if condition.item == "int":
                scalar = 1
            if op in ("in", "not_in"):
                node["value"] = [scalar]
            elif op == "between":
                node["value"] = [scalar, scalar]
            elif op in ("within_last_days", "more_than_days_ago"):
                node["value"] = 30
            elif op not in ("is_set", "is_not_set", "is_true", "is_false"):
                node["value"] = scalar
            compiled = compile_({"all": [node]})
            assert compiled.where.count("%s") == len(compiled.params), (condition.name, op)


# -- Operators on real rows -----------------------------------------------------------------------


def matches(rules, **kwargs) -> set[int]:
    compiled = segment_compile(rules, now=timezone.now(), **kwargs)
    sql, params = compiled.select_ids()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def one(field, op, value=None, **params) -> dict:
    node = {"field": field, "op": op, **params}
    if value is not None:
        node["value"] = value
    return {"all": [node]}


@pytest.fixture
def people(db):
    attributes = {"score": "42.5", "vip": True, "renewal": "2026-03-01", "team": "Lyon"}
    ann = CustomerFactory(stage="customer", language="fr", kind="person", tags=["vip", "golf"], attributes=attributes)
    bob = CustomerFactory(stage="lead", language="en", kind="person", attributes={"score": "7", "vip": False})
    cat = CustomerFactory(stage="customer", language="fr", kind="company", company_name="Cat SA", attributes={})
    AddressFactory(customer=ann, postcode="75002", city="Paris")
    AddressFactory(customer=bob, postcode="20090", city="Ajaccio")
    gone = CustomerFactory(stage="customer", merged_into=ann)
    return {"ann": ann.pk, "bob": bob.pk, "cat": cat.pk, "gone": gone.pk}


ATTRS = {"score": ("number", []), "vip": ("boolean", []), "renewal": ("date", []), "team": ("text", [])}


def test_it_compares_choice_fields(people):
    ann, bob, cat = people["ann"], people["bob"], people["cat"]
    assert matches(one("customer.stage", "eq", "customer")) == {ann, cat}  # the merged-away record is left out
    assert matches(one("customer.stage", "ne", "customer")) == {bob}
    assert matches(one("customer.stage", "in", ["lead", "loyal"])) == {bob}
    assert matches(one("customer.stage", "not_in", ["lead"])) == {ann, cat}
    assert matches(one("customer.kind", "eq", "company")) == {cat}
    assert matches(one("customer.language", "eq", "en")) == {bob}


def test_it_compares_text_fields_ignoring_case_and_treats_missing_as_false(people):
    ann, bob, cat = people["ann"], people["bob"], people["cat"]
    assert matches(one("customer.city", "eq", "PARIS")) == {ann}
    assert matches(one("customer.city", "ne", "paris")) == {bob}  # cat has no address: not "not Paris" either
    assert matches({"not": one("customer.city", "eq", "paris")}) == {bob, cat}  # ...but "not (Paris)" holds
    assert matches(one("customer.city", "contains", "jac")) == {bob}
    assert matches(one("customer.city", "starts_with", "pa")) == {ann}
    assert matches(one("customer.city", "in", ["paris", "lyon"])) == {ann}
    assert matches(one("customer.city", "not_in", ["paris"])) == {bob}
    assert matches(one("customer.city", "is_set")) == {ann, bob}
    assert matches(one("customer.city", "is_not_set")) == {cat}
    assert matches(one("customer.city", "contains", "%")) == set()  # a wildcard typed is a character


def test_it_derives_the_departement_from_the_postcode(people):
    assert matches(one("customer.departement", "eq", "75")) == {people["ann"]}
    assert matches(one("customer.departement", "eq", "2A")) == {people["bob"]}
    assert matches(one("customer.postcode", "starts_with", "75")) == {people["ann"]}


def test_it_compares_typed_custom_attributes(people):
    ann, bob, cat = people["ann"], people["bob"], people["cat"]
    a = {"attributes": ATTRS}
    assert matches(one("attribute.score", "gt", 10), **a) == {ann}
    assert matches(one("attribute.score", "lte", "7"), **a) == {bob}
    assert matches(one("attribute.score", "between", [5, 50]), **a) == {ann, bob}
    assert matches(one("attribute.score", "ne", 7), **a) == {ann}
    assert matches(one("attribute.score", "eq", "42.50"), **a) == {ann}
    assert matches(one("attribute.score", "is_not_set"), **a) == {cat}
    assert matches(one("attribute.vip", "is_true"), **a) == {ann}
    assert matches(one("attribute.vip", "is_false"), **a) == {bob}
    assert matches(one("attribute.vip", "is_not_set"), **a) == {cat}
    assert matches(one("attribute.renewal", "before", "2026-06-01"), **a) == {ann}
    assert matches(one("attribute.renewal", "after", "2026-06-01"), **a) == set()
    assert matches(one("attribute.renewal", "eq", "2026-03-01"), **a) == {ann}
    assert matches(one("attribute.team", "eq", "lyon"), **a) == {ann}


def test_it_compares_dates_relative_to_today(db):
    now = timezone.now()
    old = CustomerFactory(created_at=now - datetime.timedelta(days=400))
    new = CustomerFactory(created_at=now - datetime.timedelta(days=3))
    assert matches(one("customer.created", "within_last_days", 30)) == {new.pk}
    assert matches(one("customer.created", "more_than_days_ago", 30)) == {old.pk}
    day = (now - datetime.timedelta(days=3)).astimezone().date().isoformat()
    assert new.pk in matches(one("customer.created", "between", [day, now.date().isoformat()]))
    assert matches(one("customer.birth_date", "is_set")) == set()


def test_it_reads_the_latest_consent_entry(db):
    granted, withdrawn, silent = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ConsentFactory(customer=granted, status="granted")
    ConsentFactory(customer=withdrawn, status="granted", occurred_at=timezone.now() - datetime.timedelta(days=9))
    ConsentFactory(customer=withdrawn, status="withdrawn")
    ConsentFactory(customer=silent, status="granted", channel="sms")
    email = {"channel": "email", "purpose": "marketing"}
    assert matches(one("consent", "eq", "granted", **email)) == {granted.pk}
    assert matches(one("consent", "eq", "withdrawn", **email)) == {withdrawn.pk}
    assert matches(one("consent", "eq", "none", **email)) == {silent.pk}
    assert matches(one("consent", "ne", "granted", **email)) == {withdrawn.pk, silent.pk}
    assert matches(one("consent", "eq", "granted", channel="sms")) == {silent.pk}  # purpose defaults to marketing


def test_it_tells_present_from_deliverable_contact_points(db):
    ok, bounced, none = CustomerFactory(), CustomerFactory(), CustomerFactory()
    EmailFactory(customer=ok)
    EmailFactory(customer=bounced, is_undeliverable=True)
    MobileFactory(customer=ok)
    assert matches(one("contact.present", "is_true", channel="email")) == {ok.pk, bounced.pk}
    assert matches(one("contact.deliverable", "is_true", channel="email")) == {ok.pk}
    assert matches(one("contact.deliverable", "is_false", channel="email")) == {bounced.pk, none.pk}
    assert matches(one("contact.present", "is_true", channel="sms")) == {ok.pk}
    assert matches(one("contact.present", "is_true", channel="phone")) == {ok.pk}  # a mobile takes calls
    assert matches(one("contact.present", "is_true", channel="postal_mail")) == set()


def test_it_aggregates_orders_with_windows_and_channels(db):
    now = timezone.now()
    two, one_old, none = CustomerFactory(), CustomerFactory(), CustomerFactory()
    shoes = ProductFactory(sku="SHOE-1", category="Chaussures")
    o1 = OrderFactory(customer=two, total_amount=Decimal("100"), placed_at=now - datetime.timedelta(days=10),
                      sales_channel="store")  # fmt: skip
    OrderFactory(customer=two, total_amount=Decimal("50"), placed_at=now - datetime.timedelta(days=200))
    OrderFactory(customer=two, total_amount=Decimal("999"), status="cancelled")
    OrderLineFactory(order=o1, sku="SHOE-1", product=shoes)
    OrderFactory(customer=one_old, total_amount=Decimal("20"), placed_at=now - datetime.timedelta(days=500))
    assert matches(one("orders.count", "gte", 2)) == {two.pk}  # the cancelled order does not count
    assert matches(one("orders.count", "gte", 2, days=100)) == set()
    assert matches(one("orders.count", "eq", 0)) == {none.pk}
    assert matches(one("orders.count", "lt", 1, days=365)) == {one_old.pk, none.pk}
    assert matches(one("orders.count", "gt", 0, sales_channel="store")) == {two.pk}
    assert matches(one("orders.total", "gte", 150)) == {two.pk}
    assert matches(one("orders.total", "lt", 30)) == {one_old.pk, none.pk}
    assert matches(one("orders.last_date", "within_last_days", 30)) == {two.pk}
    assert matches(one("orders.last_date", "more_than_days_ago", 365)) == {one_old.pk}
    assert matches(one("orders.last_date", "is_not_set")) == {none.pk}
    assert matches(one("orders.product", "in", ["SHOE-1"])) == {two.pk}
    assert matches(one("orders.product", "not_in", ["SHOE-1"])) == {one_old.pk, none.pk}
    assert matches(one("orders.product", "in", ["SHOE-1"], days=5)) == set()
    assert matches(one("orders.category", "in", ["Chaussures"])) == {two.pk}
    assert matches(one("orders.sales_channel", "in", ["store"])) == {two.pk}


def test_it_finds_active_contracts(db):
    active, ended = CustomerFactory(), CustomerFactory()
    ContractFactory(customer=active, plan="Premium")
    ContractFactory(customer=ended, plan="Premium", status="ended")
    ContractFactory(customer=ended, plan="Essentiel", end_date=datetime.date(2020, 1, 1))
    assert matches(one("contracts.active", "is_true")) == {active.pk}
    assert matches(one("contracts.plan", "in", ["Premium"])) == {active.pk}
    assert matches(one("contracts.plan", "not_in", ["Premium"])) == {ended.pk}


def test_it_counts_interactions_by_channel_direction_and_window(db):
    now = timezone.now()
    mailer, caller = CustomerFactory(), CustomerFactory()
    InteractionFactory(customer=mailer, channel="email", kind="email", direction="inbound",
                       occurred_at=now - datetime.timedelta(days=5))  # fmt: skip
    InteractionFactory(customer=caller, channel="phone", kind="call", direction="outbound",
                       occurred_at=now - datetime.timedelta(days=120))  # fmt: skip
    assert matches(one("interactions.count", "gte", 1, channel="email", days=90)) == {mailer.pk}
    assert matches(one("interactions.count", "gte", 1, channel="phone", days=90)) == set()
    assert matches(one("interactions.count", "eq", 1, direction="outbound")) == {caller.pk}
    assert matches(one("interactions.last_date", "within_last_days", 30)) == {mailer.pk}


def test_it_reads_web_events(db):
    from channels.models import WebEvent
    from tests.channels_factories import SiteFactory

    site = SiteFactory()
    now = timezone.now()
    viewer, carter, buyer = CustomerFactory(), CustomerFactory(), CustomerFactory()
    rows = [(viewer, "page_view", "https://shop.example/soldes/hiver", ""),
            (viewer, "product_view", "https://shop.example/p/1", "SHOE-1"),
            (carter, "cart_add", "https://shop.example/cart", "SHOE-1"),
            (buyer, "cart_add", "https://shop.example/cart", "SHOE-1")]  # fmt: skip
    for customer, kind, url, sku in rows:
        WebEvent.objects.create(site=site, visitor_id="v", session_id="s", customer=customer, event_type=kind,
                                occurred_at=now - datetime.timedelta(days=2), url=url, product_sku=sku)  # fmt: skip
    OrderFactory(customer=buyer, placed_at=now - datetime.timedelta(days=1))
    assert matches(one("web.viewed_page", "contains", "/soldes/", days=7)) == {viewer.pk}
    assert matches(one("web.viewed_page", "contains", "/soldes/", days=1)) == set()
    assert matches(one("web.viewed_product", "in", ["SHOE-1"])) == {viewer.pk}
    assert matches(one("web.abandoned_cart", "is_true", days=7)) == {carter.pk}


def test_it_combines_groups_and_handles_empty_ones(people):
    ann, bob, cat = people["ann"], people["bob"], people["cat"]
    everyone = {ann, bob, cat}
    assert matches({"all": []}) == everyone
    assert matches({"any": []}) == set()
    assert matches({"not": {"any": []}}) == everyone
    assert matches({"all": [{"any": []}, one("customer.stage", "eq", "lead")]}) == set()
    assert matches({"any": [{"all": []}, one("customer.stage", "eq", "lead")]}) == everyone
    rules = {"any": [{"all": [one("customer.stage", "eq", "customer"), one("customer.kind", "eq", "company")]},
                     {"not": one("customer.language", "eq", "fr")}]}  # fmt: skip
    assert matches(rules) == {cat, bob}


def test_it_inlines_dynamic_segments_and_reads_static_members(people):
    from campaigns.services.segments import segment_lookup

    leads = SegmentFactory(rules=one("customer.stage", "eq", "lead"))
    frozen = StaticSegmentFactory()
    SegmentMemberFactory(segment=frozen, customer_id=people["cat"])
    assert matches(one("segment", "eq", leads.pk), segment_lookup=segment_lookup) == {people["bob"]}
    assert matches(one("segment", "ne", leads.pk), segment_lookup=segment_lookup) == {people["ann"], people["cat"]}
    assert matches(one("segment", "eq", frozen.pk), segment_lookup=segment_lookup) == {people["cat"]}


def test_it_keeps_injection_values_inert_on_the_database(people):
    for evil in ["'; DELETE FROM customers_customer; --", "%' OR '1'='1", "\\'; SELECT pg_sleep(5); --"]:
        assert matches(one("customer.city", "eq", evil)) == set()
        assert matches(one("customer.tags", "in", [evil])) == set()
    assert Customer.objects.count() == 4
