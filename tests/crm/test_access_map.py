"""Who may open what: one row per named URL, one expected status per kind of visitor.

A URL added without a row here fails ``test_it_has_a_rule_for_every_url``, so nothing ships without an
access rule. Django's admin (its own ``admin_view`` checks) is the only namespace left out.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from crm.access import declared_access
from crm.roles import ADMIN, AGENT, INTEGRATION, SUPERVISOR
from tests.crm.access_rows import collected_rows
from tests.crm.access_rows.common import EVERY_STAFF, LOGIN, PUBLIC, VISITORS, row
from tests.crm.access_rows.world import CUSTOMER_NAME, build_world

# name: (method, kwargs, expected statuses)
ACCESS = {
    "home": ("get", {}, EVERY_STAFF),
    "account": ("get", {}, EVERY_STAFF),
    "password_change": ("get", {}, EVERY_STAFF),
    "password_change_done": ("get", {}, EVERY_STAFF),
    "api_tokens": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "api_token_revoke": ("post", {"pk": "@token"}, row(LOGIN, 403, 302, 404, 404, 302)),
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
    "api_v1_token": ("delete", {"id": "@token"}, row(401, 403, 204, 404, 404, 204)),
    "api_v1_staff": ("get", {}, row(401, 403, 403, 200, 403, 200)),
    "api_v1_customers": ("get", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_resolve": ("post", {}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_bulk": ("post", {}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_customer_upsert": ("put", {"source": "erp", "external_id": "X"}, row(401, 403, 400, 400, 403, 400)),
    "api_v1_customer": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_contact_points": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_contact_point": (
        "delete",
        {"pk": "@customer", "contact_point_id": "@email"},
        row(401, 403, 204, 204, 403, 204),
    ),
    "api_v1_customer_addresses": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_address": (
        "patch",
        {"pk": "@customer", "address_id": "@address"},
        row(401, 403, 200, 200, 403, 200),
    ),
    "api_v1_customer_consents": ("get", {"pk": "@customer"}, row(401, 403, 200, 200, 200, 200)),
    "api_v1_customer_merge": ("post", {"pk": "@customer"}, row(401, 403, 403, 400, 403, 400)),
    "api_v1_customer_export": ("get", {"pk": "@customer"}, row(401, 403, 403, 200, 403, 200)),
    "api_v1_customer_erase": ("post", {"pk": "@customer"}, row(401, 403, 403, 403, 403, 400)),
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
    "customers:owner_picker_hx": ("get", {}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:saved_filter_create": ("post", {}, row(LOGIN, 403, 302, 302, 302, 302)),
    "customers:saved_filter_delete": ("post", {"pk": "@saved_filter"}, row(LOGIN, 403, 302, 404, 404, 404)),
    "customers:create": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:detail": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:orders": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 200, 200)),
    "customers:edit": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:stage": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:contact_point_add": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:contact_point_remove": (
        "post",
        {"pk": "@customer", "contact_pk": "@email"},
        row(LOGIN, 403, 302, 302, 403, 302),
    ),
    "customers:address_add": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:address_edit": (
        "get",
        {"pk": "@customer", "address_pk": "@address"},
        row(LOGIN, 403, 200, 200, 403, 200),
    ),
    "customers:consent_record": ("get", {"pk": "@customer"}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:gdpr_export": ("get", {"pk": "@customer"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:gdpr_erase": ("get", {"pk": "@customer"}, row(LOGIN, 403, 403, 403, 403, 200)),
    "customers:invoice_pdf": (
        "get",
        {"pk": "@customer", "invoice_pk": "@invoice"},
        row(LOGIN, 403, 200, 200, 200, 200),
    ),
    "customers:import_list": ("get", {}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:import_mapping": ("get", {"job_pk": "@import_job"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:import_job": ("get", {"job_pk": "@import_job"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:import_job_hx": ("get", {"job_pk": "@import_job"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:import_job_requeue": ("post", {"job_pk": "@import_job"}, row(LOGIN, 403, 403, 302, 403, 302)),
    "customers:import_report": ("get", {"job_pk": "@import_job"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:duplicates": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:duplicates_scan": ("post", {}, row(LOGIN, 403, 403, 302, 403, 302)),
    "customers:duplicates_scan_status": ("get", {}, row(LOGIN, 403, 200, 200, 403, 200)),
    "customers:duplicate_review": ("get", {"pk": "@duplicate"}, row(LOGIN, 403, 403, 200, 403, 200)),
    "customers:duplicate_dismiss": ("post", {"pk": "@duplicate"}, row(LOGIN, 403, 403, 302, 403, 302)),
    "customers:merge": ("get", {"pk": "@customer"}, row(LOGIN, 403, 403, 200, 403, 200)),
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


def _uses_rows(kwargs: dict) -> bool:
    return any(isinstance(value, str) and value.startswith("@") for value in kwargs.values())


@pytest.fixture
def world(db, settings, tmp_path):
    return build_world(settings, tmp_path)


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
def test_each_visitor_gets_the_expected_status(name, visitor, client, request):
    method, kwargs, expected = ACCESS[name]
    world = request.getfixturevalue("world") if _uses_rows(kwargs) else None
    url = reverse(name, kwargs=world.resolve(kwargs) if world else kwargs or None)
    response = getattr(client, method)(url, QUERIES[name]) if name in QUERIES else getattr(client, method)(url)
    wanted = expected[visitor]
    allowed = wanted if isinstance(wanted, set) else {wanted}
    assert response.status_code in allowed, f"{visitor} on {name}: {response.status_code}, expected {wanted}"
    if response.status_code == 403:
        assert b"nav-link" not in response.content or b"Access denied" in response.content or visitor == "anonymous"
    if world and method == "get" and response.status_code == 200:
        problem = _not_the_objects_page(name, response, world, kwargs)
        assert not problem, f"{visitor} on {name}: {problem}"


# Search fragments are opened with the object's customer typed in, as an agent would.
QUERIES = {
    "channels:call_link_search": {"q": CUSTOMER_NAME},
    "channels:chat_customer_search_hx": {"q": CUSTOMER_NAME},
}
# What the answer shows of a fresh object when it is not its name (an empty transcript, a job not run yet).
SHOWS = {
    "api_v1_customer_consents": '"granted"',
    "channels:chat_transcript_hx": "",  # no message yet: an empty fragment (messages: tests/channels)
    "channels:letter_batch_progress_hx": "",  # a batch not running: the page stops polling, empty fragment
    "customers:import_job_hx": "0 of 0 rows",
    "customers:import_report": "row,column,value,reason",
}


def _not_the_objects_page(name, response, world, kwargs) -> str:
    """Why a 200 answer is not the object's own page, JSON or file ("" when it is)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    if content_type.startswith("text/event-stream"):
        return ""  # a live stream: its events are tested where they are sent
    if name in SHOWS:
        return "" if SHOWS[name].encode() in body else f"no {SHOWS[name]!r} in the answer"
    if content_type.startswith("application/json"):
        data = json.loads(body)
        if isinstance(data, dict) and "results" in data:
            return "" if data["results"] else "an empty list"
        if isinstance(data, list):
            return "" if data else "an empty list"
        return "" if _ids_in(data) & world.pks(kwargs) else f"JSON of another object: {str(data)[:200]}"
    words = world.markers(kwargs)
    if any(word.encode() in body for word in words):
        return ""
    if content_type.startswith("application/pdf") and body.startswith(b"%PDF") and len(body) > 500:
        return ""
    return f"none of {sorted(words)} in the {content_type} answer"


def _ids_in(data) -> set:
    if isinstance(data, dict):
        return {data.get("id")} | {i for value in data.values() for i in _ids_in(value)}
    if isinstance(data, list):
        return {i for value in data for i in _ids_in(value)}
    return set()


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_an_integration_accounts_session_opens_what_an_anonymous_visitor_may_open(name, client, make_staff, request):
    """API-token service accounts get no screens: a session of one (however made) counts for nothing."""
    method, kwargs, expected = ACCESS[name]
    world = request.getfixturevalue("world") if _uses_rows(kwargs) else None
    client.force_login(make_staff(INTEGRATION, username="visitor-integration", is_staff=True))
    response = getattr(client, method)(reverse(name, kwargs=world.resolve(kwargs) if world else kwargs or None))
    wanted = expected["anonymous"]
    allowed = wanted if isinstance(wanted, set) else {wanted}
    assert response.status_code in allowed, f"Integration on {name}: {response.status_code}, expected {wanted}"


def test_the_sweep_covers_every_url_with_real_rows_and_real_successes():
    """The map cannot pass by answering 404 or 403 to everyone: it counts what it opens for real."""
    with_objects = [name for name, (_method, kwargs, _expected) in ACCESS.items() if _uses_rows(kwargs)]
    made_up_ids = [name for name, (_method, kwargs, _expected) in ACCESS.items()
                   if any(isinstance(value, int) for value in kwargs.values())]  # fmt: skip
    assert len(ACCESS) >= 150, len(ACCESS)
    assert len(with_objects) >= 78, len(with_objects)
    assert not made_up_ids, f"rows naming ids that do not exist (use a world object): {made_up_ids}"
    successes = {name for name, (_m, _k, expected) in ACCESS.items()
                 if any(status in {200, 201, 204, 302} for kind, status in expected.items()
                        if kind not in {"anonymous", "norole"} and not isinstance(status, set))}  # fmt: skip
    assert len(set(with_objects) & successes) >= 65, sorted(set(with_objects) - successes)


EVERYONE_200 = dict.fromkeys(["owner", "teammate", "outsider", "supervisor"], 200)
# Objects someone owns, opened by their owner, a teammate (same queue), an agent of another queue and a
# supervisor: (method, URL name, kwargs, {who: status}).
OWNED = [
    ("get", "channels:call_card", {"pk": "@call"}, {"owner": 200, "teammate": 404, "outsider": 404, "supervisor": 200}),
    ("post", "channels:follow_up_done", {"pk": "@follow_up"},
     {"owner": 302, "teammate": 403, "outsider": 403, "supervisor": 302}),
    ("get", "channels:chat_detail", {"pk": "@chat"}, EVERYONE_200),
    ("post", "channels:chat_end", {"pk": "@chat"}, {"owner": 302, "teammate": 403, "outsider": 403, "supervisor": 302}),
    ("post", "channels:chat_case_open", {"pk": "@chat"},
     {"owner": 302, "teammate": 403, "outsider": 403, "supervisor": 302}),
    ("post", "customers:saved_filter_delete", {"pk": "@saved_filter"},
     {"owner": 302, "teammate": 404, "outsider": 404, "supervisor": 404}),
    ("post", "api_token_revoke", {"pk": "@token"}, {"owner": 302, "teammate": 404, "outsider": 404, "supervisor": 404}),
    ("get", "channels:case_detail", {"pk": "@case"}, EVERYONE_200),
]  # fmt: skip


@pytest.fixture
def colleagues(world, make_staff):
    from channels.models import QueueMember
    from tests.channels_factories import QueueFactory

    teammate = make_staff(AGENT, username="teammate.agent")
    QueueMember.objects.create(queue=world.objects["queue"], user=teammate)
    outsider = make_staff(AGENT, username="outsider.agent")
    QueueMember.objects.create(queue=QueueFactory(name="Autre file"), user=outsider)
    return {"owner": world.owner, "teammate": teammate, "outsider": outsider,
            "supervisor": make_staff(SUPERVISOR, username="supervisor.owned")}  # fmt: skip


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "supervisor"])
@pytest.mark.parametrize(("method", "name", "kwargs", "expected"), OWNED, ids=[entry[1] for entry in OWNED])
def test_owned_objects_answer_their_owner_and_supervisors_only(method, name, kwargs, expected, who, client, world,
                                                                colleagues):  # fmt: skip
    client.force_login(colleagues[who])
    response = getattr(client, method)(reverse(name, kwargs=world.resolve(kwargs)))

    assert response.status_code == expected[who], f"{who} on {name}: {response.status_code}"
    if method == "get" and response.status_code == 200:
        assert not _not_the_objects_page(name, response, world, kwargs)


def test_a_teammate_cannot_end_someone_elses_chat_and_its_owner_can(client, world, colleagues):
    chat = world.objects["chat"]
    client.force_login(colleagues["teammate"])
    client.post(reverse("channels:chat_end", kwargs={"pk": chat.pk}))
    chat.refresh_from_db()
    assert chat.closed_at is None

    client.force_login(colleagues["owner"])
    client.post(reverse("channels:chat_end", kwargs={"pk": chat.pk}))
    chat.refresh_from_db()
    assert chat.closed_at is not None
