"""/api/v1/customers/: CRUD, nested contact points, addresses and the consent ledger, filters, access."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from crm import roles
from crm.services import api_token_create
from customers.models import Consent, ContactPoint, Customer, CustomerExternalId, PostalAddress, StageChange
from tests.customers_factories import (
    AddressFactory,
    ConsentFactory,
    CustomerFactory,
    EmailFactory,
    MobileFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def patch(client, url, data, **extra):
    return client.patch(url, data, content_type="application/json", **extra)


def fields_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    return body["error"].get("fields", {})


VALID = {
    "given_name": "Élodie",
    "family_name": "Martin",
    "stage": "lead",
    "tags": ["VIP", "newsletter"],
    "emails": ["Elodie.Martin@Example.FR"],
    "phones": ["06 12 34 56 78"],
    "addresses": [{"line4": "12 rue de la Paix", "postcode": "75002", "city": "Paris"}],
    "external_ids": {"erp": "ERP-42"},
}


def test_it_creates_a_customer_with_contact_points_addresses_and_external_ids(client, agent):
    client.force_login(agent)

    response = post(client, URL, VALID)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_number"].startswith("C-")
    assert body["email"] == "elodie.martin@example.fr"
    assert body["phone"] == "+33612345678"
    assert body["stage"] == "lead"
    assert body["tags"] == ["newsletter", "vip"]
    assert body["addresses"][0]["line6"] == "75002 PARIS"
    assert body["addresses"][0]["line1"] == "Élodie MARTIN"
    assert body["external_ids"] == [{"source": "erp", "value": "ERP-42"}]
    assert body["merged_into"] is None and body["anonymised_at"] is None
    customer = Customer.objects.get(pk=body["id"])
    assert customer.created_via == "api"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"phones": ["06 12 34"]}, "phones.0", "invalid_phone"),
        ({"emails": ["ok@example.fr", "not-an-email"]}, "emails.1", "invalid_email"),
        (
            {
                "addresses": [
                    {"line4": "12 avenue du Général de Gaulle prolongée bis", "postcode": "75002", "city": "Paris"}
                ]
            },
            "addresses.0.line4",
            "line_too_long",
        ),  # fmt: skip
        (
            {"addresses": [{"line4": "1 rue X", "postcode": "7500", "city": "Paris"}]},
            "addresses.0.postcode",
            "invalid_postcode",
        ),  # fmt: skip
        ({"stage": "royalty"}, "stage", "invalid_choice"),
        ({"given_name": "", "family_name": ""}, "family_name", "required"),
    ],
)
def test_it_rejects_bad_input_in_the_documented_format_and_writes_nothing(client, agent, change, field, code):
    client.force_login(agent)

    response = post(client, URL, {**VALID, **change})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    fields = fields_of(response)
    assert field in fields, fields
    assert fields[field][0]["code"] == code
    assert fields[field][0]["message"]
    assert Customer.objects.count() == 0
    assert ContactPoint.objects.count() == 0
    assert CustomerExternalId.objects.count() == 0


def test_it_says_how_long_the_afnor_line_is(client, agent):
    client.force_login(agent)
    line = "12 avenue du Général de Gaulle prolongée bis"

    response = post(client, URL, {**VALID, "addresses": [{"line4": line, "postcode": "75002", "city": "Paris"}]})

    message = fields_of(response)["addresses.0.line4"][0]["message"]
    assert f"{len(line)} characters" in message and "38" in message


def test_it_retrieves_a_customer(client, agent):
    customer = CustomerFactory(family_name="Durand", stage="customer", owner=agent)
    EmailFactory(customer=customer, value="durand@example.fr")
    client.force_login(agent)

    response = client.get(f"{URL}{customer.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["family_name"] == "Durand"
    assert body["owner"] == agent.pk
    assert body["email"] == "durand@example.fr"
    assert body["stage_entered_at"]


def test_it_redirects_a_merged_id_to_the_survivor(client, agent):
    survivor = CustomerFactory()
    merged = CustomerFactory()
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor, merged_at=timezone.now())
    client.force_login(agent)

    for url in (f"{URL}{merged.pk}/", f"{URL}{merged.pk}/contact-points/"):
        response = client.get(url)

        assert response.status_code == 308
        assert response["Location"].endswith(url.replace(str(merged.pk), str(survivor.pk)))
        error = response.json()["error"]
        assert error["code"] == "merged"
        assert error["survivor"] == survivor.pk


def test_it_updates_the_fields_sent_and_records_the_stage_entry(client, agent):
    customer = CustomerFactory(given_name="Paul", family_name="Roux", stage="prospect")
    client.force_login(agent)

    response = patch(client, f"{URL}{customer.pk}/", {"stage": "customer", "tags": ["Golf"], "owner": agent.pk})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["given_name"], body["stage"], body["tags"], body["owner"]) == ("Paul", "customer", ["golf"], agent.pk)
    change = StageChange.objects.get(customer=customer)
    assert (change.previous_stage, change.stage, change.source) == ("prospect", "customer", "api")


def test_it_refuses_a_bad_update_and_changes_nothing(client, agent):
    customer = CustomerFactory(family_name="Roux", stage="prospect")
    client.force_login(agent)

    response = patch(client, f"{URL}{customer.pk}/", {"stage": "royalty", "family_name": "Blanc"})

    assert response.status_code == 400
    assert "stage" in fields_of(response)
    customer.refresh_from_db()
    assert (customer.family_name, customer.stage) == ("Roux", "prospect")


def test_it_has_no_delete_erasure_is_the_gdpr_endpoint(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)

    response = client.delete(f"{URL}{customer.pk}/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- access: the owner, a teammate, an outsider ------------------------------------------------------------


def test_it_lets_the_owner_and_a_teammate_work_on_a_customer(client, agent, make_staff):
    customer = CustomerFactory(family_name="Petit", owner=agent)
    teammate = make_staff(roles.AGENT, username="teammate")

    for user in (agent, teammate):
        client.force_login(user)
        assert client.get(f"{URL}{customer.pk}/").status_code == 200
        assert patch(client, f"{URL}{customer.pk}/", {"notes": f"seen by {user.username}"}).status_code == 200


def test_it_lets_a_marketer_read_but_not_write(client, marketer):
    customer = CustomerFactory(family_name="Petit")
    client.force_login(marketer)

    assert client.get(f"{URL}{customer.pk}/").status_code == 200
    response = patch(client, f"{URL}{customer.pk}/", {"family_name": "Grand"})
    assert response.status_code == 403
    assert post(client, URL, VALID).status_code == 403
    assert post(client, f"{URL}{customer.pk}/consents/", {"channel": "email", "purpose": "marketing",
                                                          "status": "granted"}).status_code == 403  # fmt: skip
    assert (
        post(client, f"{URL}{customer.pk}/contact-points/", {"kind": "email", "value": "x@example.fr"}).status_code
        == 403
    )
    customer.refresh_from_db()
    assert customer.family_name == "Petit"
    assert Customer.objects.count() == 1
    assert not Consent.objects.exists() and not ContactPoint.objects.exists()


def test_it_shows_an_outsider_nothing(client, make_staff):
    customer = CustomerFactory(family_name="Secretname")
    outsider = make_staff(None, username="norole")
    client.force_login(outsider)

    for url in (URL, f"{URL}{customer.pk}/", f"{URL}{customer.pk}/consents/", f"{URL}{customer.pk}/addresses/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Secretname" not in response.content
    client.logout()
    response = client.get(URL)
    assert response.status_code == 401
    assert b"Secretname" not in response.content


def test_it_accepts_an_agents_integration_token(client, agent):
    _token, key = api_token_create(user=agent, name="Web shop", acting_user=agent)

    response = post(client, URL, VALID, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 201
    assert client.get(f"{URL}{response.json()['id']}/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert client.get(URL, HTTP_AUTHORIZATION="Token rls_wrong").status_code == 401


# --- the list ---------------------------------------------------------------------------------------------


def _customer_with_contacts(**fields):
    customer = CustomerFactory(**fields)
    EmailFactory(customer=customer)
    MobileFactory(customer=customer)
    AddressFactory(customer=customer)
    return customer


def test_it_lists_fifty_customers_with_a_constant_number_of_queries(client, agent, django_assert_max_num_queries):
    for _ in range(50):
        _customer_with_contacts()
    client.force_login(agent)

    # session, user, permissions (2), customers, contact points, addresses, external ids
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"page_size": 50})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 50
    assert all(row["email"] and row["phone"] and row["addresses"] for row in results)


def test_it_pages_with_a_cursor_newest_first(client, agent):
    customers = [CustomerFactory() for _ in range(5)]
    client.force_login(agent)

    first = client.get(URL, {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [c.pk for c in reversed(customers)]
    assert second["next"] is None


def test_it_leaves_merged_away_customers_out_of_the_list(client, agent):
    survivor, merged = CustomerFactory(), CustomerFactory()
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    client.force_login(agent)

    ids = [row["id"] for row in client.get(URL).json()["results"]]

    assert ids == [survivor.pk]


def test_it_filters_by_stage_owner_tag_dates_and_consent(client, agent, supervisor):
    lead = CustomerFactory(stage="lead", owner=agent, tags=["golf"])
    loyal = CustomerFactory(stage="loyal", owner=supervisor, tags=["tennis"])
    never_asked = CustomerFactory(stage="prospect")
    ConsentFactory(customer=lead, channel="email", purpose="marketing", status="granted")
    ConsentFactory(customer=loyal, channel="email", purpose="marketing", status="granted",
                   occurred_at=timezone.now() - datetime.timedelta(days=2))  # fmt: skip
    ConsentFactory(customer=loyal, channel="email", purpose="marketing", status="withdrawn")
    old = timezone.now() - datetime.timedelta(days=30)
    Customer.objects.filter(pk=never_asked.pk).update(created_at=old)
    Customer.objects.filter(pk=never_asked.pk).update(updated_at=old)
    client.force_login(agent)

    def ids(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(stage="lead") == {lead.pk}
    assert ids(stage=["lead", "loyal"]) == {lead.pk, loyal.pk}
    assert ids(owner=supervisor.pk) == {loyal.pk}
    assert ids(tag="Golf") == {lead.pk}
    assert ids(created_before=(old + datetime.timedelta(days=1)).isoformat()) == {never_asked.pk}
    assert ids(created_after=(old + datetime.timedelta(days=1)).isoformat()) == {lead.pk, loyal.pk}
    assert ids(updated_since=(old + datetime.timedelta(days=1)).isoformat()) == {lead.pk, loyal.pk}
    consent = {"consent_channel": "email", "consent_purpose": "marketing"}
    assert ids(**consent, consent_status="granted") == {lead.pk}
    assert ids(**consent, consent_status="withdrawn") == {loyal.pk}
    assert ids(**consent, consent_status="unknown") == {never_asked.pk}


def test_it_refuses_half_a_consent_filter(client, agent):
    client.force_login(agent)

    response = client.get(URL, {"consent_channel": "email"})

    assert response.status_code == 400
    assert "consent_status" in fields_of(response)


def test_it_searches_by_email_phone_in_another_format_and_account_number(client, agent):
    target = _customer_with_contacts(family_name="Lefebvre")
    other = _customer_with_contacts(family_name="Moreau")
    email = target.contact_points.get(kind="email").value
    mobile = target.contact_points.get(kind="mobile").value  # +3361xxxxxxx
    national = "0" + mobile[3:]
    client.force_login(agent)

    for query in (email.upper(), " ".join([national[i : i + 2] for i in range(0, 10, 2)]), target.account_number):
        response = client.get(URL, {"search": query})
        assert [row["id"] for row in response.json()["results"]] == [target.pk], query
    assert other.pk not in {row["id"] for row in client.get(URL, {"search": "Lefebvre"}).json()["results"]}


# --- contact points and addresses ---------------------------------------------------------------------------


def test_it_adds_lists_and_removes_contact_points(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    url = f"{URL}{customer.pk}/contact-points/"

    added = post(client, url, {"kind": "phone", "value": "+33 (0)6 11 22 33 44"})
    again = post(client, url, {"kind": "mobile", "value": "06 11 22 33 44"})

    assert added.status_code == 201
    assert (added.json()["kind"], added.json()["value"]) == ("mobile", "+33611223344")
    assert again.status_code == 200 and again.json()["id"] == added.json()["id"]
    assert [row["value"] for row in client.get(url).json()] == ["+33611223344"]
    assert client.delete(f"{url}{added.json()['id']}/").status_code == 204
    assert not ContactPoint.objects.filter(customer=customer).exists()


def test_it_refuses_a_bad_contact_point_and_adds_nothing(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)

    response = post(client, f"{URL}{customer.pk}/contact-points/", {"kind": "email", "value": "nobody@"})

    assert response.status_code == 400
    assert fields_of(response)["value"][0]["code"] == "invalid_email"
    assert not ContactPoint.objects.exists()


def test_it_does_not_remove_another_customers_contact_point(client, agent):
    customer, other = CustomerFactory(), CustomerFactory()
    point = EmailFactory(customer=other)
    client.force_login(agent)

    response = client.delete(f"{URL}{customer.pk}/contact-points/{point.pk}/")

    assert response.status_code == 404
    assert ContactPoint.objects.filter(pk=point.pk).exists()


def test_it_adds_and_changes_an_address(client, agent):
    customer = CustomerFactory(given_name="Anne", family_name="Morel")
    client.force_login(agent)
    url = f"{URL}{customer.pk}/addresses/"

    created = post(client, url, {"line4": "3 place Bellecour.", "postcode": "69002", "city": "Lyon"})
    changed = patch(client, f"{url}{created.json()['id']}/", {"line2": "Appartement 12"})

    assert created.status_code == 201, created.json()
    assert created.json()["line4"] == "3 place Bellecour"
    assert created.json()["line6"] == "69002 LYON"
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["line2"], changed.json()["line4"]) == ("Appartement 12", "3 place Bellecour")
    assert [row["line2"] for row in client.get(url).json()] == ["Appartement 12"]


def test_it_refuses_an_address_change_with_a_long_line_and_keeps_the_address(client, agent):
    address = AddressFactory()
    client.force_login(agent)

    response = patch(client, f"{URL}{address.customer_id}/addresses/{address.pk}/", {"line3": "x" * 39})

    assert response.status_code == 400
    assert fields_of(response)["line3"][0]["code"] == "line_too_long"
    address.refresh_from_db()
    assert address.line3 == ""
    assert PostalAddress.objects.count() == 1


# --- the consent ledger -----------------------------------------------------------------------------------------


def test_it_appends_consents_and_shows_the_state_in_force(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    url = f"{URL}{customer.pk}/consents/"

    granted = post(client, url, {"channel": "email", "purpose": "marketing", "status": "granted",
                                 "proof_text": "Case cochée", "occurred_at": "2026-01-02T10:00:00+01:00"})  # fmt: skip
    withdrawn = post(client, url, {"channel": "email", "purpose": "marketing", "status": "withdrawn"})

    assert granted.status_code == 201, granted.json()
    assert granted.json()["source"] == "api"
    assert withdrawn.status_code == 201
    body = client.get(url).json()
    assert [entry["status"] for entry in body["ledger"]] == ["withdrawn", "granted"]
    state = {(row["channel"], row["purpose"]): row["status"] for row in body["effective"]}
    assert state[("email", "marketing")] == "withdrawn"
    assert state[("sms", "marketing")] is None


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_it_never_edits_the_consent_ledger(client, agent, method):
    entry = ConsentFactory(status="granted")
    client.force_login(agent)

    response = getattr(client, method)(f"{URL}{entry.customer_id}/consents/", {"status": "withdrawn"},
                                       content_type="application/json")  # fmt: skip

    assert response.status_code == 405
    assert list(Consent.objects.values_list("pk", "status")) == [(entry.pk, "granted")]


def test_it_refuses_an_unknown_consent_channel_and_records_nothing(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)

    response = post(client, f"{URL}{customer.pk}/consents/", {"channel": "pigeon", "purpose": "marketing",
                                                               "status": "granted"})  # fmt: skip

    assert response.status_code == 400
    assert "channel" in fields_of(response)
    assert not Consent.objects.exists()
