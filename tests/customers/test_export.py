"""Export of the filtered customer list: CSV and XLSX content, formula injection neutralised, access."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from customers.export import cell_neutralise
from tests.customers_factories import CustomerFactory, EmailFactory, MobileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    evil = CustomerFactory(given_name='=HYPERLINK("http://evil.example","click")', family_name="+cmd", stage="lead")
    EmailFactory(customer=evil, value="evil@example.fr")
    MobileFactory(customer=evil, value="+33612345678")
    CustomerFactory(given_name="Plain", family_name="Prospect")
    return evil


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_it_neutralises_every_formula_prefix():
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert cell_neutralise(f"{prefix}1+1") == f"'{prefix}1+1"
    assert cell_neutralise("Dupont") == "Dupont"
    assert cell_neutralise(None) == ""
    assert cell_neutralise(["a", "b"]) == "a, b"


def test_the_csv_holds_the_filtered_customers_with_formulas_neutralised(client, agent, customers):
    client.force_login(agent)
    response = client.get("/customers/export.csv", {"stage": "lead"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["Account number", "Kind", "Title"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Given name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Family name"] == "'+cmd"
    assert row["Email"] == "evil@example.fr"
    assert row["Phone"] == "06 12 34 56 78"
    assert row["Account number"] == customers.account_number


def test_the_xlsx_holds_the_same_rows_and_no_formula(client, agent, customers):
    client.force_login(agent)
    response = client.get("/customers/export.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(rows) == 3
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    given_names = [row[3] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","click")' in given_names and "Plain" in given_names


def test_an_unknown_format_is_not_found(client, agent):
    client.force_login(agent)
    assert client.get("/customers/export.pdf").status_code == 404


def test_staff_without_the_permission_cannot_export(client, make_staff, customers):
    client.force_login(make_staff(None, username="norole"))
    response = client.get("/customers/export.csv")
    assert response.status_code == 403
    assert b"evil@example.fr" not in response.content
