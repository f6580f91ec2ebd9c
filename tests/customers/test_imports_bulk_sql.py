"""The bulk import validates the common formats in SQL: it must store exactly what the Python parser gives.

A large file mixing every format the SQL path accepts, and formats it hands to Python (foreign phones,
``+33 (0)``, two-digit years, non-ASCII emails, errors), is imported; each stored customer, contact point
and address is compared with ``customer_row_parse`` on the same cells.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.choices import ContactKind
from customers.models import Customer, ImportJob
from customers.normalise import afnor_locality_line
from customers.services.imports import import_job_create, import_job_queue
from customers.services.imports.bulk import _recipient
from customers.services.imports.validation import customer_row_parse

pytestmark = pytest.mark.django_db

COLUMNS = ["external_id", "title", "given_name", "family_name", "company_name", "birth_date", "email", "phone",
           "line2", "line4", "postcode", "city", "country", "language", "stage", "tags", "notes"]  # fmt: skip
TITLES = ["M.", "Mme", "mlle", "DR", "Mx", "", "Monsieur", "Sir"]
GIVEN = ["Jean", "Hélène", "Jean  Pierre", "", "Zoë", "Ömer", "Åsa"]
FAMILY = ["Durand", "Strauß", "Œuvre-Lefèvre", "de la Tour", "", "O'Brien", "İnce"]
COMPANY = ["", "", "", "Société Générale", "", "Ærø Consulting"]
DATES = ["1980-03-12", "12/03/1980", "12-03-1980", "12.03.1980", "", "12/03/80", "1/3/1980", "31/02/1990",
         "2999-01-01", "1899-12-31", "29/02/2000", "29/02/1900", "1980-3-12", "12/03-1980"]  # fmt: skip
PHONES = ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "01.23.45.67.89",
          "+44 20 7946 0958", "07-12-34-56-78", "", "(0)6 12 34 56 78", "12", "09 12 34 56 78", "08 00 12 34 56",
          "+33 1 23 45 67 89", "0612345678 ", "06 12 34 56 7"]  # fmt: skip
LINES4 = ["12 rue de la Paix.", "3  avenue Foch ,", "", "Lieu-dit Les Granges :", "x" * 39, "5 rue Émile Zola"]
LINES2 = ["", "Bâtiment B", "Appt 4 :", ""]
PLACES = [("75011", "Paris", ""), ("75 002", "Paris", "FR"), ("42000", "Saint-Étienne", "fr"),
          ("1000", "Bruxelles", "BE"), ("94240", "L'Haÿ-les-Roses", ""), ("", "", ""), ("00000", "Nulle part", "FR"),
          ("69003", "", ""),
          ("97110", "Pointe-à-Pitre", "FR"), ("SW1A 1AA", "London", "gb"), ("13001", "Marseille", "FRA")]  # fmt: skip
LANGUAGES = ["", "EN", "fr", "de", "English", "Français"]
STAGES = ["", "Lead", "customer", "LOYAL", "unknown"]
TAGS = ["", "VIP, vip ,Presse", "b,a,,c", " salon 2025 ", "Été,ÉTÉ"]
NOTES = ["", "Rappeler le matin", "  espaces  "]


def _cells(n: int) -> dict[str, str]:
    postcode, city, country = PLACES[n % len(PLACES)]
    email = [f"client{n}@exemple.fr", f"CLIENT{n}@Exemple.FR", f"élodie{n}@exemple.fr", "", f"pas-un-email-{n}",
             f" spaced{n}@exemple.fr"][n % 6]  # fmt: skip
    return {
        "external_id": f"EXT-{n}" if n % 9 else f"EXT  {n}",
        "title": TITLES[n % len(TITLES)],
        "given_name": GIVEN[n % len(GIVEN)],
        "family_name": FAMILY[(n // 3) % len(FAMILY)],
        "company_name": COMPANY[n % len(COMPANY)],
        "birth_date": DATES[n % len(DATES)],
        "email": email,
        "phone": PHONES[(n // 2) % len(PHONES)],
        "line2": LINES2[n % len(LINES2)],
        "line4": LINES4[(n // 5) % len(LINES4)],
        "postcode": postcode,
        "city": city,
        "country": country,
        "language": LANGUAGES[n % len(LANGUAGES)],
        "stage": STAGES[(n // 7) % len(STAGES)],
        "tags": TAGS[n % len(TAGS)],
        "notes": NOTES[n % len(NOTES)],
    }


def test_the_sql_path_stores_what_the_python_parser_gives(django_capture_on_commit_callbacks):
    rows = [_cells(n) for n in range(6000)]
    text = ";".join(COLUMNS) + "\n" + "".join(";".join(r[c] for c in COLUMNS) + "\n" for r in rows)
    job = import_job_create(kind="customers", source="erp", upload=SimpleUploadedFile("c.csv", text.encode()))
    with django_capture_on_commit_callbacks(execute=True):
        import_job_queue(job=job, mapping={c: c for c in COLUMNS}, dry_run=False)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.failure

    expected_errors, expected = {}, {}
    for index, cells in enumerate(rows):
        row, errors = customer_row_parse({k: v.strip() for k, v in cells.items()})
        if errors:
            expected_errors[index + 2] = {name for name, _value, _reason in errors.items}
        else:
            expected[row["external_id"]] = row
    reported: dict[int, set[str]] = {}
    for error in job.row_errors.all():
        reported.setdefault(error.row_number, set()).add(error.column)
    assert reported == expected_errors
    assert len(expected) > 500 and len(expected_errors) > 500
    assert job.created_rows == len(expected)

    customers = Customer.objects.prefetch_related("contact_points", "addresses", "external_ids")
    seen = 0
    for customer in customers:
        row = expected[customer.external_ids.get().value]
        seen += 1
        got = (customer.title, customer.given_name, customer.family_name, customer.company_name,
               customer.birth_date, customer.language, customer.stage, customer.tags)  # fmt: skip
        want = (row["title"], row["given_name"], row["family_name"], row["company_name"], row["birth_date"],
                row["language"], row["stage"], row["tags"])  # fmt: skip
        assert got == want, row
        points = {(p.kind, p.value) for p in customer.contact_points.all()}
        want_points = set()
        if row["email"]:
            want_points.add((ContactKind.EMAIL, row["email"]))
        if row["phone"]:
            want_points.add((row["phone_kind"], row["phone"]))
        assert points == want_points, row
        addresses = [(a.line1, a.line2, a.line4, a.line6, a.postcode, a.city, a.country)
                     for a in customer.addresses.all()]  # fmt: skip
        if row["has_address"]:
            line6 = afnor_locality_line(postcode=row["postcode"], city=row["city"], country=row["country"])
            assert addresses == [(_recipient(row), row["line2"], row["line4"], line6, row["postcode"], row["city"],
                                  row["country"])], row  # fmt: skip
        else:
            assert addresses == [], row
    assert seen == len(expected)
