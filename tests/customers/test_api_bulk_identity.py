"""The API bulk upsert decides who is who by the same rule as the import: the same rows, the same people."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from customers.models import ContactPoint, Customer, DuplicatePair
from customers.services.imports import import_job_create, mapping_suggest
from customers.services.imports.bulk import customers_import_bulk
from customers.services.imports.jobs import _values
from customers.services.imports.reading import table_open
from customers.services.records import AddressInput, CustomerInput, customer_create

pytestmark = pytest.mark.django_db

HEADER = ["Id", "Prénom", "Nom", "E-mail", "Téléphone", "Adresse", "Code postal", "Ville", "Date de naissance"]
# Six namesakes of one town (each with their own identifiers), the file's own duplicates re-typed in
# other formats (one with the same id; one under another id of the same source with the same email
# and phone, which the conflicting id keeps apart but flags), a row of an existing customer found by
# email, a namesake of the existing customer who shares nothing else with them, and a row with the
# existing customer's name and street under another id than the row found by email (the source says
# two people: written apart, as a second run would find once the customer holds the first id).
ROWS = [
    *[
        [f"L{n}", "Loïc", "Leroy", f"loic.leroy{n}@example.fr", f"06 1{n} 00 00 0{n}", f"{n} rue Nationale", "59000",
         "Lille", f"1{n}/0{n}/198{n}"]
        for n in range(1, 7)
    ],
    ["L1", "Loic", "LEROY", "LOIC.LEROY1@EXAMPLE.FR", "+33611000001", "", "", "", ""],
    ["K2", "Loïc", "Leroy", "Loic.Leroy2@Example.fr", "0033 6 12 00 00 02", "", "", "", ""],
    ["E1", "Loïc", "Leroy", "LOIC@DEMO.FR", "", "", "", "", ""],
    ["N1", "Loïc", "Leroy", "autre.loic@example.fr", "07 81 00 00 01", "3 rue Solférino", "59000", "Lille",
     "02/02/1990"],
    ["P1", "Loïc", "Leroy", "", "", "8 place du Théâtre", "59000", "Lille", ""],
]  # fmt: skip


def existing_leroy() -> Customer:
    return customer_create(data=CustomerInput(
        given_name="Loïc", family_name="Leroy", birth_date=datetime.date(1975, 1, 1), emails=["loic@demo.fr"],
        phones=["06 99 88 77 66"], addresses=[AddressInput(line4="8 place du Théâtre", postcode="59000", city="Lille")],
    ))  # fmt: skip


def api_record(row: list[str]) -> dict:
    ext, given, family, email, phone, street, postcode, city, born = row
    record = {"source": "erp", "external_id": ext, "given_name": given, "family_name": family}
    if email:
        record["emails"] = [email]
    if phone:
        record["phones"] = [phone]
    if city:
        record["addresses"] = [{"line4": street, "postcode": postcode, "city": city}]
    if born:
        day, month, year = born.split("/")
        record["birth_date"] = f"{year}-{month}-{day}"
    return record


def people() -> tuple[set, set]:
    """Who exists (each customer as the set of their contact values) and which pairs await review."""
    values: dict[int, set] = {}
    for customer_id, value in ContactPoint.objects.values_list("customer_id", "value"):
        values.setdefault(customer_id, set()).add(value)
    for customer in Customer.objects.all():
        values.setdefault(customer.pk, set()).add(f"{customer.birth_date}/{customer.addresses.count()} address")
    described = {pk: frozenset(v) for pk, v in values.items()}
    pairs = {
        frozenset((described[low], described[high]))
        for low, high in DuplicatePair.objects.values_list("customer_low_id", "customer_high_id")
    }
    return set(described.values()), pairs


def import_rows():
    text = "\n".join(";".join(row) for row in [HEADER, *ROWS]) + "\n"
    job = import_job_create(kind="customers", source="erp", upload=SimpleUploadedFile("c.csv", text.encode("cp1252")))
    mapping = mapping_suggest(kind="customers", header=job.columns["header"])
    rows = _values(table_open(job.file.path), mapping)
    counts = customers_import_bulk(job=job, rows=rows, report=lambda *a, **k: None, progress=lambda n: None,
                                   dry_run=False, with_outcomes=True)  # fmt: skip
    # Row numbers count data rows from 2 (the header is row 1), API indexes from 0.
    actions = {number - 2: outcome["action"] for number, outcome in counts.outcomes.items()}
    return [actions.get(index, "duplicate") for index in range(len(ROWS))]


def api_rows(client, agent):
    client.force_login(agent)
    response = client.post(
        "/api/v1/customers/bulk/",
        {"records": [api_record(row) for row in ROWS]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    words = {"created": "create", "updated": "update", "unchanged": "unchanged"}
    return [
        words.get(result["status"]) or next(iter(result["errors"].values()))[0]["code"]
        for result in response.json()["results"]
    ]


def test_the_api_bulk_and_the_import_give_the_same_people_for_the_same_rows(client, agent):
    existing_leroy()
    point = transaction.savepoint()
    imported = import_rows()
    after_import = people()
    transaction.savepoint_rollback(point)
    assert Customer.objects.count() == 1

    sent = api_rows(client, agent)
    assert people() == after_import
    assert [word.replace("duplicate_in_request", "duplicate") for word in sent] == imported
    # What both did: six namesakes; the re-typed duplicate folded into its row; the one under another
    # id created apart and flagged; the existing customer found by email; the namesake and the row
    # under another id created apart.
    assert sent == ["create"] * 6 + ["duplicate_in_request", "create", "update", "create", "create"]
    existing = ContactPoint.objects.get(value="loic@demo.fr").customer
    existing.refresh_from_db()
    assert existing.birth_date == datetime.date(1975, 1, 1)
    assert existing.external_ids.filter(source="erp", value="E1").exists()
    assert existing.contact_points.count() == 2 and existing.addresses.count() == 1
    second, other_id = (Customer.objects.get(external_ids__value=ext) for ext in ("L2", "K2"))
    assert DuplicatePair.objects.filter(customer_low=second, customer_high=other_id).exists()
    assert Customer.objects.count() == 10


def test_a_second_api_bulk_of_the_same_rows_changes_nothing(client, agent):
    existing_leroy()
    api_rows(client, agent)
    before = (people(), Customer.objects.count(), DuplicatePair.objects.count())
    again = api_rows(client, agent)
    assert again == ["unchanged"] * 6 + ["duplicate_in_request"] + ["unchanged"] * 4
    assert (people(), Customer.objects.count(), DuplicatePair.objects.count()) == before


def test_a_conflicting_birth_date_vetoes_a_name_match_through_the_api(client, agent):
    existing = existing_leroy()
    client.force_login(agent)
    response = client.post(
        "/api/v1/customers/bulk/",
        {"records": [{"source": "crm2", "external_id": "X", "given_name": "Loïc", "family_name": "Leroy",
                      "birth_date": "1990-02-02",
                      "addresses": [{"line4": "8 place du Théâtre", "postcode": "59000", "city": "Lille"}]}]},
        content_type="application/json",
    )  # fmt: skip
    assert response.json()["results"][0]["status"] == "created"
    existing.refresh_from_db()
    assert existing.birth_date == datetime.date(1975, 1, 1)
    assert not existing.external_ids.filter(source="crm2").exists()
