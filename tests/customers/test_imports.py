"""Imports through the services and the task: mapping, dry run, dedupe, malformed files, bulk path."""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.errors import ApplicationError
from customers.choices import ContactKind
from customers.models import ContactPoint, Customer, CustomerExternalId, ImportJob, Order, PostalAddress
from customers.normalise import phone_normalise
from customers.services.imports import (
    import_job_create,
    import_job_queue,
    import_preview,
    mapping_suggest,
    report_csv,
)
from customers.services.imports.reading import ImportFileError
from customers.services.imports.validation import phone_normalise_fast
from tests.customers_factories import EmailFactory, ExternalIdFactory

pytestmark = pytest.mark.django_db

HEADER = "Id;Civilité;Prénom;Nom;E-mail;Téléphone;Adresse;Code postal;Ville;Date de naissance\n"


def upload(text: str | bytes, *, name="clients.csv", encoding="utf-8", kind="customers", source="erp", user=None):
    content = text.encode(encoding) if isinstance(text, str) else text
    return import_job_create(kind=kind, source=source, upload=SimpleUploadedFile(name, content), acting_user=user)


def run(job, *, dry_run=False, mapping=None, capture=None):
    from customers.services.imports import mapping_for

    mapping = mapping or mapping_for(source=job.source, kind=job.kind, header=job.columns["header"])
    with capture(execute=True):
        import_job_queue(job=job, mapping=mapping, dry_run=dry_run)
    job.refresh_from_db()
    return job


def test_it_suggests_a_mapping_from_french_and_english_headers():
    french = mapping_suggest(kind="customers", header=["Nom", "Prénom", "E-mail", "Téléphone", "Code postal", "Ville"])
    assert french == {
        "Nom": "family_name",
        "Prénom": "given_name",
        "E-mail": "email",
        "Téléphone": "phone",
        "Code postal": "postcode",
        "Ville": "city",
    }
    english = mapping_suggest(kind="customers", header=["First name", "Last name", "Email", "Zip", "City"])
    assert english == {
        "First name": "given_name",
        "Last name": "family_name",
        "Email": "email",
        "Zip": "postcode",
        "City": "city",
    }


def test_it_imports_customers_from_a_cp1252_csv(django_capture_on_commit_callbacks, supervisor):
    text = HEADER + "A1;Mme;Hélène;Durand;HELENE@Example.FR;06 12 34 56 78;12 rue de la Paix;75002;Paris;12/03/1980\n"
    job = run(upload(text, encoding="cp1252", user=supervisor), capture=django_capture_on_commit_callbacks)
    assert (job.status, job.created_rows, job.error_rows) == ("done", 1, 0), job.failure
    customer = Customer.objects.get(family_name="Durand")
    assert customer.given_name == "Hélène" and str(customer.birth_date) == "1980-03-12"
    assert set(customer.contact_points.values_list("kind", "value")) == {
        ("email", "helene@example.fr"),
        ("mobile", "+33612345678"),
    }
    assert customer.addresses.get().line6 == "75002 PARIS"
    assert CustomerExternalId.objects.get(source="erp", value="A1").customer == customer


def test_it_updates_the_customer_matched_by_email_instead_of_duplicating(django_capture_on_commit_callbacks):
    existing = EmailFactory(
        value="paul@example.fr", customer__given_name="Paul", customer__family_name="Martin"
    ).customer
    text = "Nom,Prénom,Email,Ville\nMartin,Paul,Paul@Example.fr,\n"
    job = run(upload(text), capture=django_capture_on_commit_callbacks)
    # The row holds nothing the customer lacks: matched, and counted as unchanged.
    assert (job.status, job.created_rows, job.updated_rows, job.unchanged_rows) == ("done", 0, 0, 1), job.failure
    assert Customer.objects.count() == 1
    assert existing.contact_points.get().raw_value == "paul@example.fr"
    job = upload("Nom,Prénom,Email,Téléphone\nMartin,Paul,paul@example.fr,06 12 34 56 78\n")
    job = run(job, capture=django_capture_on_commit_callbacks,
              mapping=mapping_suggest(kind="customers", header=job.columns["header"]))  # fmt: skip
    assert (job.created_rows, job.updated_rows) == (0, 1)
    assert existing.contact_points.filter(value="+33612345678").exists()


def test_it_creates_an_ambiguous_row_as_a_possible_duplicate_of_each_candidate(django_capture_on_commit_callbacks):
    from customers.models import DuplicatePair

    jean = EmailFactory(value="shared@example.fr", customer__given_name="Jean", customer__family_name="Dupont").customer
    marie = EmailFactory(
        value="shared@example.fr", customer__given_name="Marie", customer__family_name="Dupont"
    ).customer
    job = run(upload("Nom;E-mail\nDupont;shared@example.fr\n"), capture=django_capture_on_commit_callbacks)
    assert (job.created_rows, job.flagged_rows, job.error_rows) == (1, 1, 0)
    new = Customer.objects.exclude(pk__in=[jean.pk, marie.pk]).get()
    pairs = {frozenset((p.customer_low_id, p.customer_high_id)) for p in DuplicatePair.objects.all()}
    assert pairs == {frozenset((new.pk, jean.pk)), frozenset((new.pk, marie.pk))}
    line = job.row_errors.get()
    assert (line.row_number, line.column, line.level) == (2, "E-mail", "flagged")
    assert jean.account_number in line.reason and "same email" in line.reason


def test_it_reports_duplicate_rows_inside_the_file(django_capture_on_commit_callbacks):
    text = "Nom;E-mail\nDupont;a@example.fr\nDupond;A@example.fr\n"
    job = run(upload(text), capture=django_capture_on_commit_callbacks)
    assert (job.created_rows, job.duplicate_rows, job.error_rows) == (1, 1, 0)
    line = job.row_errors.get()
    assert (line.row_number, line.column, line.level) == (3, "E-mail", "duplicate")
    assert line.reason == "The same person as row 2 of this file; only that row is imported."


def test_it_imports_a_row_without_its_bad_values_and_warns_with_row_and_column(django_capture_on_commit_callbacks):
    text = HEADER + "X;M.;Jean;Valide;;;;;;\nY;M.;Jean;Faux;pas-un-email;12;;;;31/02/1990\n"
    job = run(upload(text), capture=django_capture_on_commit_callbacks)
    assert (job.created_rows, job.error_rows, job.warning_rows) == (2, 0, 1)
    found = {(e.row_number, e.column, e.value, e.level) for e in job.row_errors.all()}
    assert found == {(3, "E-mail", "pas-un-email", "warning"), (3, "Téléphone", "12", "warning"),
                     (3, "Date de naissance", "31/02/1990", "warning")}  # fmt: skip
    faux = Customer.objects.get(family_name="Faux")
    assert faux.birth_date is None and not faux.contact_points.exists()


def test_it_fails_the_job_naming_the_missing_required_columns():
    job = upload("Prénom;Ville\nJean;Lyon\n")
    with pytest.raises(ApplicationError, match="Family name or Company"):
        import_job_queue(job=job, mapping={"Prénom": "given_name", "Ville": "city"}, dry_run=True)
    job.refresh_from_db()
    assert job.status == "uploaded" and Customer.objects.count() == 0


def test_it_refuses_a_file_in_another_encoding():
    with pytest.raises(ImportFileError, match="UTF-16"):
        upload("Nom;Prénom\nDurand;Hélène\n", encoding="utf-16")
    assert ImportJob.objects.count() == 0


def test_it_fails_the_job_when_the_encoding_breaks_midway(django_capture_on_commit_callbacks):
    content = ("Nom;Ville\n" + "Durand;Paris\n" * 6000).encode() + "Hélène;Nîmes\n".encode("cp1252")
    job = run(upload(content), capture=django_capture_on_commit_callbacks)
    assert job.status == "failed" and "UTF-8" in job.failure


def test_it_stores_formula_looking_values_as_text_and_neutralises_them_in_the_report(
    django_capture_on_commit_callbacks,
):
    text = 'Nom;E-mail\n=HYPERLINK("http://evil");ok@example.fr\n+Durand;=cmd|calc\n'
    job = run(upload(text), capture=django_capture_on_commit_callbacks)
    assert Customer.objects.get(contact_points__value="ok@example.fr").family_name == '=HYPERLINK("http://evil")'
    report = report_csv(job=job)
    assert "'=cmd|calc" in report and "\n3,E-mail,=cmd" not in report


def test_a_dry_run_writes_nothing_but_the_report(django_capture_on_commit_callbacks):
    text = HEADER + "A1;Mme;Hélène;Durand;h@example.fr;;;;;\nA2;;;;;;;;;\n"
    job = run(upload(text), dry_run=True, capture=django_capture_on_commit_callbacks)
    assert (job.status, job.is_dry_run, job.created_rows, job.error_rows) == ("done", True, 1, 1)
    assert Customer.objects.count() == 0 and ContactPoint.objects.count() == 0
    job = run(job, capture=django_capture_on_commit_callbacks)
    assert (job.is_dry_run, job.created_rows) == (False, 1) and Customer.objects.count() == 1


def test_the_preview_shows_the_first_rows_as_they_would_be_saved():
    job = upload(HEADER + "A1;Mme;Hélène;Durand;H@Example.fr;0612345678;1 rue X;69002;Lyon;\n")
    from customers.services.imports import mapping_for

    preview = import_preview(job=job, mapping=mapping_for(source="erp", kind="customers", header=job.columns["header"]))
    assert preview["rows"][0]["email"] == "h@example.fr" and preview["rows"][0]["action"] == "create"
    assert Customer.objects.count() == 0


def test_an_id_held_by_an_erased_customer_is_left_out_with_a_warning(django_capture_on_commit_callbacks):
    # An anonymised customer still holds erp:X, so identity resolution finds nobody and the row creates a
    # customer; the id stays with the erased record and the report says so.
    holder = ExternalIdFactory(source="erp", value="X").customer
    Customer.objects.filter(pk=holder.pk).update(anonymised_at="2025-01-01T00:00Z")
    text = "Id;Nom;E-mail\nX;Durand;d@example.fr\nY;Martin;m@example.fr\n"
    job = run(upload(text), capture=django_capture_on_commit_callbacks)
    assert (job.created_rows, job.error_rows) == (2, 0)
    line = job.row_errors.get()
    assert (line.row_number, line.column, line.level) == (2, "Id", "warning")
    durand = Customer.objects.get(family_name="Durand")
    assert not durand.external_ids.exists() and holder.external_ids.get().value == "X"


def test_it_imports_an_xlsx_file(django_capture_on_commit_callbacks):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Prénom", "E-mail", "Date de naissance"])
    import datetime

    sheet.append(["Durand", "Hélène", "h@example.fr", datetime.datetime(1980, 3, 12)])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(upload(buffer.getvalue(), name="clients.xlsx"), capture=django_capture_on_commit_callbacks)
    assert job.created_rows == 1 and str(Customer.objects.get().birth_date) == "1980-03-12"


def test_it_imports_orders_for_customers_found_by_their_external_id(django_capture_on_commit_callbacks):
    customer = ExternalIdFactory(source="shop", value="C42").customer
    text = "N° commande;ID client;Date de commande;Montant\nCMD-1;C42;2025-05-02;1 234,50\nCMD-2;NOPE;2025-05-02;3\n"
    job = run(
        upload(text, kind="orders", source="shop"),
        capture=django_capture_on_commit_callbacks,
        mapping={
            "N° commande": "number",
            "ID client": "customer_external_id",
            "Date de commande": "placed_at",
            "Montant": "total_amount",
        },
    )
    assert (job.created_rows, job.error_rows) == (1, 1)
    order = Order.objects.get()
    assert (order.customer, str(order.total_amount), order.external_id) == (customer, "1234.50", "CMD-1")
    job2 = run(
        upload(text, kind="orders", source="shop"),
        capture=django_capture_on_commit_callbacks,
        mapping=job.columns["mapping"],
    )
    assert job2.updated_rows == 1 and Order.objects.count() == 1


def test_the_bulk_path_imports_a_large_file_set_based(django_capture_on_commit_callbacks):
    existing = EmailFactory(
        value="person3@example.fr", customer__given_name="Jean", customer__family_name="Durand3"
    ).customer
    lines = ["Id;Prénom;Nom;E-mail;Téléphone;Adresse;Code postal;Ville"]
    for n in range(6000):
        lines.append(f"B{n};Jean;Durand{n};person{n}@example.fr;06{n:08d};{n} rue de Lyon;69003;Lyon")
    lines.append("B1;Jean;Twice;other@example.fr;;;;")  # duplicate id inside the file
    lines.append("BAD;Jean;Bad;not-an-email;;;;")
    job = run(upload("\n".join(lines) + "\n"), capture=django_capture_on_commit_callbacks)
    counts = (job.status, job.created_rows, job.updated_rows, job.duplicate_rows, job.error_rows)
    assert counts == ("done", 6000, 1, 1, 0), job.failure
    assert Customer.objects.count() == 6001
    existing.refresh_from_db()
    assert existing.family_name == "Durand3" and existing.contact_points.count() == 2
    new = Customer.objects.get(family_name="Durand42")
    assert new.account_number.startswith("C-") and new.created_via == "import"
    assert new.contact_points.get(kind=ContactKind.MOBILE).value == "+33600000042"
    assert PostalAddress.objects.get(customer=new).line1 == "Jean DURAND42"
    assert {(e.row_number, e.column, e.level) for e in job.row_errors.all()} == {
        (6002, "Id", "duplicate"), (6003, "E-mail", "warning")}  # fmt: skip

    # History is written by the bulk statements themselves: one event per row, one "import" context.
    CustomerEvent = apps.get_model("customers", "CustomerEvent")
    ContactPointEvent = apps.get_model("customers", "ContactPointEvent")
    created = CustomerEvent.objects.filter(pgh_obj=new)
    assert [(e.pgh_label, e.family_name, e.pgh_context.metadata["channel"]) for e in created] == [
        ("insert", "Durand42", "import")
    ]
    assert ContactPointEvent.objects.filter(customer_id=new.pk).count() == 2
    # The existing customer gained a phone, an address and an id; its own fields did not change.
    assert not CustomerEvent.objects.filter(pgh_obj=existing, pgh_label="update").exists()
    assert (
        ContactPointEvent.objects.filter(customer_id=existing.pk, pgh_context__metadata__channel="import").count() == 1
    )
    assert CustomerEvent.objects.filter(pgh_context__metadata__import_job=job.pk).count() == 6000
    # The insert triggers were skipped for the import only: a customer created afterwards has its history.
    later = EmailFactory(value="later@example.fr")
    assert CustomerEvent.objects.filter(pgh_obj=later.customer, pgh_label="insert").count() == 1
    assert ContactPointEvent.objects.filter(pgh_obj=later, pgh_label="insert").count() == 1


def test_the_fast_phone_path_agrees_with_phonenumbers():
    rng = random.Random(4)
    for _n in range(3000):
        raw = "0" + str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        try:
            slow = phone_normalise(raw)
            expected = (slow.e164, slow.is_mobile)
        except ApplicationError:
            expected = None
        try:
            fast = phone_normalise_fast(raw)
        except ApplicationError:
            fast = None
        assert fast == expected, raw
