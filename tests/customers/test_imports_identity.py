"""The import never fuses two people: namesakes, dry run == import, idempotent re-import, overseas phones, consents."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Consent, ContactPoint, Customer, DuplicatePair
from customers.services.imports import import_job_create, import_job_queue, mapping_suggest
from customers.services.imports.bulk import customers_import_bulk
from customers.services.imports.jobs import _values
from customers.services.imports.reading import table_open
from customers.services.records import AddressInput, CustomerInput, customer_create

pytestmark = pytest.mark.django_db

HEADER = "Id;Civilité;Prénom;Nom;E-mail;Téléphone;Adresse;Code postal;Ville;Date de naissance;Accepte newsletter\n"
SIX_LEROY = "".join(
    f"L{n};M.;Loïc;Leroy;loic.leroy{n}@example.fr;06 1{n} 00 00 0{n};{n} rue Nationale;59000;Lille;"
    f"1{n}/0{n}/198{n};oui\n"
    for n in range(1, 7)
)


def upload(text: str, *, source="erp"):
    job = import_job_create(kind="customers", source=source, upload=SimpleUploadedFile("c.csv", text.encode("cp1252")))
    return job


def run(job, django_capture_on_commit_callbacks, *, dry_run=False):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_queue(job=job, mapping=mapping_suggest(kind="customers", header=job.columns["header"]),
                         dry_run=dry_run)  # fmt: skip
    job.refresh_from_db()
    return job


def demo_leroy():
    return customer_create(data=CustomerInput(
        given_name="Loïc", family_name="Leroy", birth_date=datetime.date(1975, 1, 1), emails=["loic@demo.fr"],
        phones=["06 99 88 77 66"], addresses=[AddressInput(line4="8 place du Théâtre", postcode="59000", city="Lille")],
    ))  # fmt: skip


def test_six_namesakes_of_one_town_stay_six_people_and_the_existing_one_is_untouched(
    django_capture_on_commit_callbacks,
):
    existing = demo_leroy()
    job = run(upload(HEADER + SIX_LEROY), django_capture_on_commit_callbacks)
    assert (job.status, job.created_rows, job.updated_rows, job.error_rows) == ("done", 6, 0, 0), job.failure
    leroys = Customer.objects.filter(family_name="Leroy").exclude(pk=existing.pk)
    assert leroys.count() == 6
    assert all(c.contact_points.filter(kind="email").count() == 1 for c in leroys)
    existing.refresh_from_db()
    assert existing.birth_date == datetime.date(1975, 1, 1)
    assert set(existing.contact_points.values_list("value", flat=True)) == {"loic@demo.fr", "+33699887766"}
    # A seventh row sharing the email of the third goes to that one, whatever its format.
    job = run(upload(HEADER + ";;LOIC;LEROY;Loic.Leroy3@Example.FR;+33 6 99 00 00 09;;;;;\n"),
              django_capture_on_commit_callbacks)  # fmt: skip
    third = ContactPoint.objects.get(value="loic.leroy3@example.fr").customer
    assert (job.created_rows, job.updated_rows) == (0, 1)
    assert third.contact_points.filter(value="+33699000009").exists()
    assert Customer.objects.filter(family_name__iexact="Leroy").count() == 7


def test_a_dry_run_predicts_the_import_row_by_row(django_capture_on_commit_callbacks):
    demo_leroy()
    messy = (HEADER + SIX_LEROY + "L1;;Loic;Leroy;LOIC.LEROY1@example.fr;0611000001;;;;;\n"  # the file's duplicate
             + "Z1;;;;;;;;;;\n"  # no name: rejected
             + "Z2;Mme;Anne;Océan;anne@example.re;0692 12 34 56;1 rue A;97400;Saint-Denis;31/02/1990;"
             + "peut-être\n")  # fmt: skip
    job = upload(messy)
    mapping = mapping_suggest(kind="customers", header=job.columns["header"])
    outcomes = []
    for dry_run in (True, False):
        reports: list = []
        rows = _values(table_open(job.file.path), mapping)
        counts = customers_import_bulk(job=job, rows=rows, report=lambda *a, r=reports, **k: r.append((a, k)),
                                       progress=lambda n: None, dry_run=dry_run, with_outcomes=True)  # fmt: skip
        outcomes.append((counts.created, counts.updated, counts.unchanged, counts.duplicates,
                         {n: o["action"] for n, o in counts.outcomes.items()}, sorted(map(str, reports))))  # fmt: skip
        if dry_run:
            assert Customer.objects.count() == 1
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][:4] == (7, 0, 0, 1)
    anne = Customer.objects.get(family_name="Océan")
    assert anne.contact_points.get(kind="mobile").value == "+262692123456" and anne.birth_date is None


def test_importing_the_same_file_twice_changes_nothing(django_capture_on_commit_callbacks):
    from django.apps import apps

    text = HEADER + SIX_LEROY
    run(upload(text), django_capture_on_commit_callbacks)
    CustomerEvent = apps.get_model("customers", "CustomerEvent")
    before = (Customer.objects.count(), ContactPoint.objects.count(), Consent.objects.count(),
              CustomerEvent.objects.count(), DuplicatePair.objects.count())  # fmt: skip
    job = run(upload(text), django_capture_on_commit_callbacks)
    assert (job.created_rows, job.updated_rows, job.unchanged_rows) == (0, 0, 6)
    after = (Customer.objects.count(), ContactPoint.objects.count(), Consent.objects.count(),
             CustomerEvent.objects.count(), DuplicatePair.objects.count())  # fmt: skip
    assert after == before
    # A changed row updates only what changed.
    changed = SIX_LEROY.replace("Lille;14/04/1984", "Lille;15/04/1984")
    job = run(upload(HEADER + changed), django_capture_on_commit_callbacks)
    assert (job.created_rows, job.updated_rows, job.unchanged_rows) == (0, 1, 5)


def test_a_consent_column_writes_the_ledger_with_the_job_and_row_as_proof(django_capture_on_commit_callbacks):
    text = HEADER + "C1;;Jean;Martin;jean@example.fr;;;;;;oui\nC2;;Paul;Martin;paul@example.fr;;;;;;non\n"
    job = run(upload(text), django_capture_on_commit_callbacks)
    jean = ContactPoint.objects.get(value="jean@example.fr").customer
    paul = ContactPoint.objects.get(value="paul@example.fr").customer
    entry = Consent.objects.get(customer=jean)
    assert (entry.channel, entry.purpose, entry.status, entry.source) == ("email", "marketing", "granted", "import")
    assert f"#{job.pk}" in entry.proof_text and "row 2" in entry.proof_text
    assert Consent.objects.get(customer=paul).status == "withdrawn"


@pytest.mark.parametrize(("typed", "postcode", "e164"), [
    ("0692 12 34 56", "97400", "+262692123456"), ("0639 01 23 45", "97600", "+262639012345"),
    ("0690 00 12 34", "97100", "+590690001234"), ("0696 20 12 34", "97200", "+596696201234"),
    ("0694 20 12 34", "97300", "+594694201234"), ("0262 16 12 34", "97400", "+262262161234"),
])  # fmt: skip
def test_overseas_french_numbers_are_read_in_their_region(typed, postcode, e164, django_capture_on_commit_callbacks):
    job = run(
        upload(HEADER + f"O1;;Ana;Payet;;{typed};1 rue B;{postcode};Ville;;\n"), django_capture_on_commit_callbacks
    )
    assert (job.created_rows, job.warning_rows) == (1, 0)
    assert Customer.objects.get(family_name="Payet").contact_points.get().value == e164


def test_a_control_character_is_refused_in_a_name_and_left_out_elsewhere(django_capture_on_commit_callbacks):
    text = HEADER + "K1;;Jean\x07;Bell;;;;;;;\nK2;;Anne;Clair;a\x01b@example.fr;;;;;;\n"
    job = run(upload(text), django_capture_on_commit_callbacks)
    assert (job.created_rows, job.error_rows, job.warning_rows) == (1, 1, 1)
    assert not Customer.objects.filter(family_name="Bell").exists()
    assert not Customer.objects.get(family_name="Clair").contact_points.exists()
