"""Who may open what: one row per named URL, one expected status per kind of visitor.

A URL added without a row here fails ``test_it_has_a_rule_for_every_url``, so nothing ships without an
access rule. Django's admin (its own ``admin_view`` checks) is the only namespace left out.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from crm.access import declared_access
from crm.roles import ADMIN
from tests.crm.access_rows import collected_rows
from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, VISITORS, row

# name: (method, kwargs, expected statuses)
ACCESS = {
    "home": ("get", {}, EVERY_STAFF),
    "account": ("get", {}, EVERY_STAFF),
    "password_change": ("get", {}, EVERY_STAFF),
    "password_change_done": ("get", {}, EVERY_STAFF),
    "api_tokens": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "api_token_revoke": ("post", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "team": ("get", {}, row(LOGIN, 403, 403, 200, 403, 200)),
    "operations": ("get", {}, row(LOGIN, 403, 403, 403, 403, 200)),
    "metrics": ("get", {}, row(403, 403, 403, 403, 403, 200)),
    "health": ("get", {}, row(PUBLIC, PUBLIC, PUBLIC, PUBLIC, PUBLIC, PUBLIC)),
    "login": ("get", {}, row(200, 302, 302, 302, 302, 302)),
    "logout": ("post", {}, row(200, 200, 200, 200, 200, 200)),
    "set_language": ("post", {}, row(302, 302, 302, 302, 302, 302)),
    "javascript_catalog": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "password_reset": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "password_reset_done": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "password_reset_confirm": ("get", {"uidb64": "MQ", "token": "bad-token"}, row(200, 200, 200, 200, 200, 200)),
    "password_reset_complete": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "api_schema": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "api_v1_me": ("get", {}, row(401, 200, 200, 200, 200, 200)),
    "api_v1_tokens": ("get", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_token": ("delete", {"id": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_staff": ("get", {}, row(401, 403, 403, 200, 403, 200)),
    "api_v1_customers": ("get", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_resolve": ("post", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_bulk": ("post", {}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_customer_upsert": ("put", {"source": "erp", "external_id": "X"}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_customer": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_customer_contact_points": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_customer_contact_point": (
        "delete",
        {"pk": 999999, "contact_point_id": 1},
        row(401, 403, 404, 404, 403, 404),
    ),
    "api_v1_customer_addresses": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_customer_address": ("patch", {"pk": 999999, "address_id": 1}, row(401, 403, 404, 404, 403, 404)),
    "api_v1_customer_consents": ("get", {"pk": 999999}, row(401, 403, 404, 404, 404, 404)),
    "api_v1_customer_merge": ("post", {"pk": 999999}, row(401, 403, 403, 404, 403, 404)),
    "api_v1_customer_export": ("get", {"pk": 999999}, row(401, 403, 403, 404, 403, 404)),
    "api_v1_customer_erase": ("post", {"pk": 999999}, row(401, 403, 403, 403, 403, 404)),
    "api_v1_product_bulk": ("post", {}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_product_upsert": ("put", {"source": "pim", "external_id": "X"}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_product_upsert_sku": ("put", {"sku": "X"}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_order_bulk": ("post", {}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_order_upsert": ("put", {"source": "shop", "external_id": "X"}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_contract_bulk": ("post", {}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_contract_upsert": ("put", {"source": "crm", "external_id": "X"}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_invoice_bulk": ("post", {}, row(401, 403, 403, 403, 403, 400)),
    "api_v1_invoice_upsert": ("put", {"source": "erp", "external_id": "X"}, row(401, 403, 403, 403, 403, 400)),
    "api_docs": ("get", {}, row(200, 200, 200, 200, 200, 200)),
    "customers:list": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:export": ("get", {"fmt": "csv"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:search": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:search_hx": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:saved_filter_create": ("post", {}, row(LOGIN, 403, 302, 302, 302, 302)),
    "customers:saved_filter_delete": ("post", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "customers:create": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:detail": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "customers:orders": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 404, 404)),
    "customers:edit": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:stage": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:contact_point_add": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:contact_point_remove": ("post", {"pk": 999999, "contact_pk": 1}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:address_add": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:address_edit": ("get", {"pk": 999999, "address_pk": 1}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:consent_record": ("get", {"pk": 999999}, row(LOGIN, 403, 404, 404, 403, 404)),
    "customers:gdpr_export": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:gdpr_erase": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 403, 403, 404)),
    "customers:invoice_pdf": ("get", {"pk": 999999, "invoice_pk": 1}, row(LOGIN, 403, 404, 404, 404, 404)),
    "customers:import_list": ("get", {}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:import_mapping": ("get", {"job_pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:import_job": ("get", {"job_pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:import_job_hx": ("get", {"job_pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:import_job_requeue": ("post", {"job_pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:import_report": ("get", {"job_pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:duplicates": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:duplicates_scan": ("post", {}, row(LOGIN, 403, 403, 302, 403, 302)),
    "customers:duplicates_scan_status": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:duplicate_review": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:duplicate_dismiss": ("post", {"pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
    "customers:merge": ("get", {"pk": 999999}, row(LOGIN, 403, 403, 404, 403, 404)),
}
ACCESS.update(collected_rows())


def _named_patterns(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def test_it_has_a_rule_for_every_url():
    names = {name for name, _ in _named_patterns()}
    missing = sorted(names - ACCESS.keys())
    assert not missing, f"URLs without an access rule in this table: {missing}"
    stale = sorted(ACCESS.keys() - names)
    assert not stale, f"Rules for URLs that no longer exist: {stale}"


def test_it_declares_access_on_every_html_view():
    undeclared = []
    for name, pattern in _named_patterns():
        callback = pattern.callback
        is_api = hasattr(callback, "cls")  # DRF views declare permission_classes instead
        if not is_api and declared_access(callback) is None:
            undeclared.append(name)
    assert not undeclared, f"Views without crm.access decorator: {undeclared}"


@pytest.fixture
def visitor(request, client, make_staff):
    kind = request.param
    if kind != "anonymous":
        user = make_staff(None if kind == "norole" else kind, username=f"visitor-{kind.lower()}",
                          is_staff=kind == ADMIN)  # fmt: skip
        client.force_login(user)
    return kind


@pytest.mark.parametrize("visitor", VISITORS, indirect=True)
@pytest.mark.parametrize("name", sorted(ACCESS))
def test_each_visitor_gets_the_expected_status(name, visitor, client):
    method, kwargs, expected = ACCESS[name]
    response = getattr(client, method)(reverse(name, kwargs=kwargs or None))
    wanted = expected[visitor]
    allowed = wanted if isinstance(wanted, set) else {wanted}
    assert response.status_code in allowed, f"{visitor} on {name}: {response.status_code}, expected {wanted}"
    if response.status_code == 403:
        assert b"nav-link" not in response.content or b"Access denied" in response.content or visitor == "anonymous"
