"""Letter batches: who is written to, who is left out and why, one PDF, the mail-house CSV, returned mail."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from channels.models import Interaction, Letter, LetterBatch, ResponseTemplate
from channels.services.postal import letter_create
from crm.errors import ApplicationError
from customers.models import PostalAddress, SavedFilter
from tests.customers_factories import AddressFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    body = "Bonjour {{ customer.display_name }},\n\nVoici vos nouveaux tarifs."
    return ResponseTemplate.objects.create(channel="letter", name="Tarifs 2027", subject="Vos tarifs 2027", body=body)


def _customer_with_address(**fields):
    customer = CustomerFactory(**fields)
    AddressFactory(customer=customer)
    return customer


def _create_and_run(client, data: dict):
    """Post the batch form (the batch is queued: no worker in the test), then run its task as a worker would."""
    from channels.tasks.postal import letter_batch_run_task

    response = client.post(reverse("channels:letter_batch_create"), data)
    batch = LetterBatch.objects.get()
    assert batch.status == "queued" and not batch.letters.exists()
    letter_batch_run_task.delay(batch.pk)
    batch.refresh_from_db()
    return response, batch


def test_a_batch_from_account_numbers_lists_who_was_left_out(client, supervisor, template):
    written = [_customer_with_address() for _ in range(3)]
    no_address = CustomerFactory()
    numbers = "\n".join([*(c.account_number for c in written), no_address.account_number, "C-9999999",
                         written[0].account_number])  # fmt: skip
    client.force_login(supervisor)

    response, batch = _create_and_run(client, {
        "name": "Tarifs", "template": template.pk, "purpose": "service", "source": "accounts",
        "account_numbers": numbers,
    })  # fmt: skip

    assert response.status_code == 302 and batch.status == "done"
    assert batch.letter_count == 3
    assert {letter.customer_id for letter in batch.letters.all()} == {c.pk for c in written}
    reasons = {entry["account_number"]: entry["reason"] for entry in batch.skipped}
    assert reasons == {
        no_address.account_number: f"{no_address.display_name} has no postal address. Add one to the record first.",
        "C-9999999": "No customer with this account number.",
    }
    page = client.get(reverse("channels:letter_batch_detail", kwargs={"pk": batch.pk})).content.decode()
    assert "C-9999999" in page and "No customer with this account number." in page
    assert Interaction.objects.filter(channel="postal_mail", kind="letter").count() == 3


def test_a_batch_from_a_customer_filter_and_its_single_pdf(client, supervisor, template):
    vips = [_customer_with_address(tags=["vip"]) for _ in range(3)]
    _customer_with_address(tags=["other"])
    client.force_login(supervisor)

    saved = SavedFilter.objects.create(owner=supervisor, name="VIP", query="tag=vip")
    _response, batch = _create_and_run(client, {
        "template": template.pk, "purpose": "service", "source": "filter", "saved_filter": saved.pk,
    })  # fmt: skip
    pdf = client.get(reverse("channels:letter_batch_pdf", kwargs={"pk": batch.pk}))

    assert {letter.customer_id for letter in batch.letters.all()} == {c.pk for c in vips}
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(b"".join(pdf.streaming_content)))
    assert len(reader.pages) == 3  # one page per (short) letter
    assert [vips[n].display_name in reader.pages[n].extract_text() for n in range(3)] == [True, True, True]


def test_a_batch_for_every_customer_without_a_filter_is_refused(client, supervisor, template):
    _customer_with_address()
    client.force_login(supervisor)

    everyone = SavedFilter.objects.create(owner=supervisor, name="Everyone", query="sort=-created")
    response = client.post(reverse("channels:letter_batch_create"), {
        "template": template.pk, "purpose": "service", "source": "filter", "saved_filter": everyone.pk,
    })  # fmt: skip

    assert response.status_code == 200 and b"Filter the customer list first" in response.content
    assert not LetterBatch.objects.exists() and not Letter.objects.exists()


def test_a_marketing_batch_leaves_out_who_objected_to_marketing_by_post(supervisor, template):
    from channels.services.postal import BatchSelection, letter_batch_create

    keen, objector = _customer_with_address(), _customer_with_address()
    ConsentFactory(customer=objector, channel="postal_mail", purpose="marketing", status="withdrawn")

    batch = letter_batch_create(name="Promo", template=template, selection=BatchSelection([keen, objector]),
                                acting_user=supervisor, purpose="marketing")  # fmt: skip

    assert list(batch.letters.values_list("customer_id", flat=True)) == [keen.pk]
    assert batch.skipped[0]["reason"] == "Objected to marketing by post."


def test_the_mail_house_csv_has_one_row_per_letter_and_no_formula(client, supervisor, template):
    plain = _customer_with_address()
    tricky = CustomerFactory()
    AddressFactory(customer=tricky, line1="=HYPERLINK(\"http://x\")", line4="+33 RUE DU PORT", line6="13002 MARSEILLE",
                   postcode="13002", city="Marseille")  # fmt: skip
    client.force_login(supervisor)
    _create_and_run(client, {
        "template": template.pk, "purpose": "service", "source": "accounts",
        "account_numbers": f"{plain.account_number}, {tricky.account_number}",
    })  # fmt: skip
    batch = LetterBatch.objects.get()

    response = client.get(reverse("channels:letter_batch_csv", kwargs={"pk": batch.pk}))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0] == ["reference", "account_number", "line1", "line2", "line3", "line4", "line5", "line6",
                       "postcode", "city", "country", "pages"]  # fmt: skip
    assert len(rows) == 3
    by_account = {row[1]: row for row in rows[1:]}
    tricky_row = by_account[tricky.account_number]
    assert tricky_row[2] == '\'=HYPERLINK("http://x")' and tricky_row[5] == "'+33 RUE DU PORT"
    assert tricky_row[7:11] == ["13002 MARSEILLE", "13002", "Marseille", "FR"]
    assert by_account[plain.account_number][11] == "1"
    letter = batch.letters.get(customer=plain)
    assert by_account[plain.account_number][0] == f"L{letter.pk:08d}"


def test_returned_mail_marks_the_address_and_later_letters_refuse_it(client, supervisor, agent):
    customer = _customer_with_address(given_name="Zoé", family_name="Roux")
    letter = letter_create(customer=customer, subject="Relance", body="Bonjour.", acting_user=agent)
    client.force_login(supervisor)

    response = client.post(reverse("channels:letter_returned", kwargs={"pk": letter.pk}),
                           {"reason": "N'habite pas à l'adresse indiquée"})  # fmt: skip

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == "returned" and letter.returned_at is not None
    address = PostalAddress.objects.get(customer=customer)
    assert address.is_undeliverable and address.undeliverable_at is not None
    returned = Interaction.objects.get(customer=customer, direction="inbound")
    assert (returned.channel, returned.kind, returned.outcome) == ("postal_mail", "letter", "returned")
    assert "N'habite pas" in returned.body
    with pytest.raises(ApplicationError) as raised:
        letter_create(customer=customer, subject="Encore", body="Bonjour.", acting_user=agent)
    assert raised.value.code == "no_address" and "marked undeliverable" in raised.value.message


def test_the_returned_mail_api_is_idempotent_and_needs_the_permission(client, supervisor, agent, marketer):
    customer = _customer_with_address()
    letter = letter_create(customer=customer, subject="Relance", body="Bonjour.", acting_user=agent)
    url = reverse("api_v1_letter_returned", kwargs={"pk": letter.pk})

    client.force_login(marketer)  # reads letters, may not change them
    refused = client.post(url, {}, content_type="application/json")
    client.force_login(supervisor)
    first = client.post(url, {"reason": "Destinataire inconnu"}, content_type="application/json")
    again = client.post(url, {}, content_type="application/json")

    assert refused.status_code == 403
    assert first.status_code == 200 and first.json()["status"] == "returned"
    assert first.json()["address_undeliverable"] is True and first.json()["changed"] is True
    assert again.status_code == 200 and again.json()["changed"] is False
    assert Interaction.objects.filter(customer=customer, direction="inbound").count() == 1


def test_agents_cannot_create_batches(client, agent, template):
    customer = _customer_with_address()
    client.force_login(agent)

    response = client.post(reverse("channels:letter_batch_create"), {
        "template": template.pk, "purpose": "service", "source": "accounts", "account_numbers": customer.account_number,
    })  # fmt: skip

    assert response.status_code == 403 and not LetterBatch.objects.exists()


def test_batch_pages_query_a_fixed_number_of_times(client, supervisor, template, django_assert_max_num_queries):
    from channels.services.postal import BatchSelection, letter_batch_create

    customers = [_customer_with_address() for _ in range(12)]
    batch = letter_batch_create(name="Lot", template=template, selection=BatchSelection(customers),
                                acting_user=supervisor)  # fmt: skip
    client.force_login(supervisor)

    with django_assert_max_num_queries(12):
        detail = client.get(reverse("channels:letter_batch_detail", kwargs={"pk": batch.pk}))
    with django_assert_max_num_queries(10):
        listing = client.get(reverse("channels:letter_batches"))

    assert detail.content.decode().count('href="/channels/letters/') >= 12
    assert "Lot" in listing.content.decode()


def test_the_batch_form_offers_the_users_saved_filters_in_french_and_no_raw_query(client, supervisor, make_staff,
                                                                               template):  # fmt: skip
    teammate = make_staff("Supervisor", username="teammate.test")
    mine = SavedFilter.objects.create(owner=supervisor, name="Mes clients VIP", query="tag=vip")
    shared = SavedFilter.objects.create(owner=teammate, name="Leads de l'équipe", query="stage=lead", is_shared=True)
    private = SavedFilter.objects.create(owner=teammate, name="Privé", query="stage=customer")
    client.force_login(supervisor)

    page = client.get(reverse("channels:letter_batch_create"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert f'<option value="{mine.pk}">Mes clients VIP</option>' in page
    assert f'value="{shared.pk}"' in page and f'value="{private.pk}"' not in page
    assert 'name="query"' not in page and "stage=customer&amp;tag=vip" not in page
    for english in ("Batch name", "Letter template", "Account numbers", "Saved filter", "Marketing (offers)",
                    "Paste them one per line", "Who"):  # fmt: skip
        assert f">{english}" not in page and f"{english}<" not in page
    assert "Nom du lot" in page and "Filtre enregistré" in page


def test_a_filter_batch_without_a_chosen_filter_is_refused(client, supervisor, template):
    _customer_with_address()
    client.force_login(supervisor)
    response = client.post(reverse("channels:letter_batch_create"), {
        "template": template.pk, "purpose": "service", "source": "filter", "query": "tag=vip",
    })  # fmt: skip
    assert response.status_code == 200 and b"Choose a saved filter." in response.content
    assert not LetterBatch.objects.exists()


def test_a_batch_shows_its_progress_while_queued_then_its_letters_when_the_worker_is_done(client, supervisor,
                                                                                         template):  # fmt: skip
    from channels.tasks.postal import letter_batch_run_task

    customers = [_customer_with_address() for _ in range(3)]
    client.force_login(supervisor)
    queued = client.post(reverse("channels:letter_batch_create"), {
        "template": template.pk, "purpose": "service", "source": "accounts",
        "account_numbers": " ".join(c.account_number for c in customers),
    }, follow=True).content.decode()  # fmt: skip
    batch = LetterBatch.objects.get()
    progress_url = reverse("channels:letter_batch_progress_hx", kwargs={"pk": batch.pk})

    assert f'hx-get="{progress_url}?watching=1" hx-trigger="every 1s"' in queued
    assert "The batch is queued" in queued and "0 of 3 customers" in queued
    assert 'data-testid="batch-pdf"' not in queued  # no PDF before the letters exist
    assert client.get(reverse("channels:letter_batch_pdf", kwargs={"pk": batch.pk})).status_code == 404
    polled = client.get(progress_url, {"watching": "1"}, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in polled and 'hx-trigger="every 1s"' in polled.content.decode()

    letter_batch_run_task.delay(batch.pk)  # the worker writes the batch
    ended = client.get(progress_url, {"watching": "1"}, HTTP_HX_REQUEST="true")
    page = client.get(reverse("channels:letter_batch_detail", kwargs={"pk": batch.pk})).content.decode()

    assert ended["HX-Refresh"] == "true"
    assert 'hx-trigger="every 1s"' not in page and 'data-testid="batch-pdf"' in page
    assert '<div class="fs-4" data-testid="letter-count">3</div>' in page
    assert page.count('href="/channels/letters/') >= 3


def test_the_task_reports_progress_per_chunk_in_a_fixed_number_of_statements(
    supervisor, template, monkeypatch, django_assert_max_num_queries
):
    from channels.services import postal
    from channels.services.postal import letter_batch_queue, letter_batch_run

    monkeypatch.setattr(postal, "BATCH_CHUNK", 10)
    customers = [_customer_with_address() for _ in range(25)]
    batch = letter_batch_queue(name="Lot", template=template, acting_user=supervisor, enqueue=False,
                               account_numbers=" ".join(c.account_number for c in customers))  # fmt: skip
    seen = []
    original = postal._batch_write_chunk

    def watching(batch, chunk, **kwargs):
        seen.append(LetterBatch.objects.values_list("processed", "total").get(pk=batch.pk))
        return original(batch, chunk, **kwargs)

    monkeypatch.setattr(postal, "_batch_write_chunk", watching)
    # 25 letters: a fixed cost (claim, selection, counts, finish) + per chunk of 10 a handful of statements,
    # never a statement per letter.
    with django_assert_max_num_queries(12 + 3 * 7):
        batch = letter_batch_run(batch_id=batch.pk)

    assert seen == [(0, 25), (10, 25), (20, 25)]  # what the polled page shows while it runs
    assert (batch.status, batch.letter_count, batch.processed) == ("done", 25, 25)
    assert Interaction.objects.filter(channel="postal_mail", kind="letter").count() == 25
    assert Letter.objects.filter(batch=batch, interaction__isnull=True).count() == 0


def test_a_batch_whose_worker_died_is_resumed_without_writing_a_letter_twice(supervisor, template):
    import datetime

    from django.utils import timezone

    from channels.services.postal import letter_batch_queue, letter_batch_run

    customers = [_customer_with_address() for _ in range(4)]
    batch = letter_batch_queue(name="Lot", template=template, acting_user=supervisor, enqueue=False,
                               account_numbers=" ".join(c.account_number for c in customers))  # fmt: skip
    letter_create(customer=customers[0], subject="x", body="written before the crash", acting_user=supervisor)
    Letter.objects.filter(customer=customers[0]).update(batch=batch)
    LetterBatch.objects.filter(pk=batch.pk).update(
        status="running", lease_expires_at=timezone.now() + datetime.timedelta(minutes=1)
    )

    assert letter_batch_run(batch_id=batch.pk) is None  # its worker may still be alive: not claimed
    LetterBatch.objects.filter(pk=batch.pk).update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    batch = letter_batch_run(batch_id=batch.pk)

    assert (batch.status, batch.letter_count) == ("done", 4)
    assert sorted(batch.letters.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    assert letter_batch_run(batch_id=batch.pk) is None  # done: a redelivered message writes nothing


def test_a_batch_where_everyone_is_left_out_fails_with_the_reasons(client, supervisor, template):
    from channels.tasks.postal import letter_batch_run_task

    nobody = CustomerFactory()
    client.force_login(supervisor)
    client.post(reverse("channels:letter_batch_create"), {
        "template": template.pk, "purpose": "service", "source": "accounts", "account_numbers": nobody.account_number,
    })  # fmt: skip
    batch = LetterBatch.objects.get()
    letter_batch_run_task.delay(batch.pk)
    page = client.get(reverse("channels:letter_batch_detail", kwargs={"pk": batch.pk})).content.decode()

    assert 'data-testid="batch-failure"' in page
    assert "No letter could be written: every customer was left out" in page and "has no postal address" in page
    assert LetterBatch.objects.get().status == "failed" and not Letter.objects.exists()
