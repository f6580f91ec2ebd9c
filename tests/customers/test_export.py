"""Export of the filtered customer list: what a spreadsheet shows when the user opens the file.

CSV in the user's language (``;`` + BOM for French, ``,`` otherwise), labels rather than codes,
formulas neutralised by the one shared rule (crm.spreadsheet), XLSX that opens whatever old data holds.
"""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest
from django.utils import translation

from crm.spreadsheet import csv_cell, csv_dialect
from customers.models import AttributeDefinition
from tests.customers_factories import CustomerFactory, EmailFactory, MobileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A French request leaves French active in the thread (LocaleMiddleware never deactivates): undo it."""
    yield
    translation.deactivate()


@pytest.fixture
def customers():
    evil = CustomerFactory(given_name='=HYPERLINK("http://evil.example","click")', family_name="+cmd", stage="lead")
    EmailFactory(customer=evil, value="evil@example.fr")
    MobileFactory(customer=evil, value="+33612345678")
    CustomerFactory(given_name="Plain", family_name="Prospect")
    return evil


@pytest.fixture
def labelled():
    """A customer whose stored codes (mr, person, customer, fr, email) must show as labels."""
    AttributeDefinition.objects.create(key="loyalty_card", label="Loyalty card", label_fr="Carte de fidélité",
                                       type="boolean", order=1)  # fmt: skip
    AttributeDefinition.objects.create(key="household", label="Household size", type="number", order=2)
    customer = CustomerFactory(title="mr", kind="person", given_name="Loïc", family_name="Leroy", stage="customer",
                               language="fr", preferred_channel="email",
                               attributes={"loyalty_card": True, "household": 4})  # fmt: skip
    MobileFactory(customer=customer, value="+447911123456")  # a British mobile: international format
    return customer


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def read_csv(response, delimiter=",") -> list[list[str]]:
    text = body_of(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def read_xlsx(response):
    return openpyxl.load_workbook(io.BytesIO(body_of(response))).active


# -- the one rule ----------------------------------------------------------------------------------


def test_it_neutralises_every_formula_prefix_in_csv():
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{prefix}1+1") == f"'{prefix}1+1"
    assert csv_cell("Dupont") == "Dupont"
    assert csv_cell(None) == ""
    assert csv_cell(["a", "b"]) == "a, b"


def test_a_phone_number_stays_readable_text_and_a_negative_amount_stays_a_number():
    # Without the apostrophe a spreadsheet turns "+33612345678" into 33612345678 and "+33 6 12…" into an error.
    assert csv_cell("+33 6 12 34 56 78") == "'+33 6 12 34 56 78"
    assert csv_cell("+33612345678") == "'+33612345678"
    assert csv_cell("06 12 34 56 78") == "06 12 34 56 78"
    assert csv_cell("-12.50") == "-12.50"
    assert csv_cell("-12,50") == "-12,50"
    assert csv_cell("-1+cmd") == "'-1+cmd"


def test_a_control_character_becomes_a_visible_replacement_character():
    assert csv_cell("Jean\x07ne") == "Jean\ufffdne"
    assert csv_cell("ligne 1\nligne 2\tfin") == "ligne 1\nligne 2\tfin"


def test_french_files_use_semicolons_and_a_bom_and_others_commas_without():
    assert (csv_dialect("fr").delimiter, csv_dialect("fr-fr").bom) == (";", "\ufeff")
    assert (csv_dialect("en").delimiter, csv_dialect("en-gb").bom) == (",", "")


# -- CSV -------------------------------------------------------------------------------------------


def test_the_csv_holds_the_filtered_customers_with_formulas_neutralised(client, agent, customers):
    client.force_login(agent)
    response = client.get("/customers/export.csv", {"stage": "lead"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["Account number", "Kind", "Title"]
    assert len(rows) == 2
    row = as_dicts(rows)[0]
    assert row["Given name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Family name"] == "'+cmd"
    assert row["Email"] == "evil@example.fr"
    assert row["Phone"] == "06 12 34 56 78"
    assert row["Account number"] == customers.account_number


def test_the_english_csv_is_comma_separated_without_bom_and_shows_labels(client, agent, labelled):
    client.force_login(agent)
    response = client.get("/customers/export.csv")
    raw = body_of(response)
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    row = as_dicts(rows)[0]
    assert (row["Title"], row["Kind"], row["Stage"], row["Language"], row["Preferred channel"]) == (
        "Mr", "Person", "Customer", "French", "Email",
    )  # fmt: skip
    assert (row["Loyalty card"], row["Household size"]) == ("Yes", "4")
    assert row["Phone"] == "'+44 7911 123456"
    datetime.datetime.fromisoformat(row["Created"])  # a date every spreadsheet reads


def test_the_french_csv_opens_as_columns_with_french_labels(client, agent, labelled):
    client.force_login(agent)
    response = client.get("/customers/export.csv", HTTP_ACCEPT_LANGUAGE="fr")
    raw = body_of(response)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].count(";") == len(text.splitlines()[0].split(";")) - 1 > 10
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows[0]) == len(rows[1]) == 18  # 16 columns and the two custom attributes
    assert rows[0][:3] == ["Numéro client", "Type", "Civilité"]
    row = as_dicts(rows)[0]
    assert row["Numéro client"] == labelled.account_number
    assert (row["Civilité"], row["Type"], row["Étape"], row["Langue"], row["Canal préféré"]) == (
        "M.", "Particulier", "Client", "Français", "E-mail",
    )  # fmt: skip
    assert not {"mr", "person", "customer", "fr", "email"} & set(rows[1])
    assert row["Carte de fidélité"] == "Oui"
    assert row["Household size"] == "4"  # no French label: the English one rather than nothing
    assert row["Prénom"] == "Loïc"


# -- XLSX ------------------------------------------------------------------------------------------


def test_the_xlsx_holds_the_same_rows_and_no_formula(client, agent, customers):
    client.force_login(agent)
    response = client.get("/customers/export.xlsx")
    assert response.status_code == 200
    sheet = read_xlsx(response)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(rows) == 3
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    cells = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row}
    # Shown exactly as stored, as text (quote prefix: it stays text when the user edits the cell).
    evil = cells['=HYPERLINK("http://evil.example","click")']
    assert (evil.data_type, evil.quotePrefix) == ("s", True)
    assert "Plain" in cells


def test_the_xlsx_opens_although_a_customer_holds_a_control_character(client, agent):
    # Old data, written before the input rule refused control characters.
    CustomerFactory(given_name="Jean\x07", family_name="Du\x1bpont", company_name="A\x00B".replace("\x00", "\x0b"))
    client.force_login(agent)
    response = client.get("/customers/export.xlsx")
    assert response.status_code == 200
    sheet = read_xlsx(response)
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2))]
    assert "Jean\ufffd" in values and "Du\ufffdpont" in values and "A\ufffdB" in values


def test_the_french_xlsx_has_french_headers_labels_and_keeps_phone_numbers_readable(client, agent, labelled):
    client.force_login(agent)
    sheet = read_xlsx(client.get("/customers/export.xlsx", HTTP_ACCEPT_LANGUAGE="fr"))
    assert sheet.title == "Clients"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Civilité"], row["Étape"], row["Carte de fidélité"]) == ("M.", "Client", "Oui")
    assert row["Téléphone"] == "+44 7911 123456"  # no apostrophe in XLSX: the cell is typed text
    assert row["Household size"] == 4  # a number the spreadsheet can sum
    assert isinstance(row["Créé le"], datetime.datetime)


def test_an_unknown_format_is_not_found(client, agent):
    client.force_login(agent)
    assert client.get("/customers/export.pdf").status_code == 404


def test_staff_without_the_permission_cannot_export(client, make_staff, customers):
    client.force_login(make_staff(None, username="norole"))
    response = client.get("/customers/export.csv")
    assert response.status_code == 403
    assert b"evil@example.fr" not in response.content
