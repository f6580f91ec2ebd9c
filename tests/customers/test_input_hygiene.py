"""Input and export hygiene as a user meets it: control characters and bad email addresses refused on
every input path with the field named and nothing written; the other CSV files (import report, GDPR
export) in the user's spreadsheet dialect; custom attribute labels in the page's language."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape

from customers.models import AttributeDefinition, ContactPoint, Customer, ImportRowError
from customers.services.imports import import_job_create, import_job_queue, mapping_for, report_csv
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """A French request leaves French active in the thread (LocaleMiddleware never deactivates): undo it."""
    yield
    translation.deactivate()


CREATE = {"kind": "person", "given_name": "Jeanne", "family_name": "Moreau", "language": "fr", "stage": "prospect",
          "country": "FR"}  # fmt: skip
BAD_EMAIL = "a<b>@c.de"


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def post_json(client, url, data):
    return client.post(url, data, content_type="application/json")


def error_fields(response) -> dict:
    return response.json()["error"].get("fields", {})


def run_import(text: str, capture) -> object:
    job = import_job_create(kind="customers", source="erp",
                            upload=SimpleUploadedFile("clients.csv", text.encode()), acting_user=None)  # fmt: skip
    with capture(execute=True):
        mapping = mapping_for(source=job.source, kind=job.kind, header=job.columns["header"])
        import_job_queue(job=job, mapping=mapping, dry_run=False)
    job.refresh_from_db()
    return job


# -- control characters ----------------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x07", "\x0b", "\x1b", "\x00"])
def test_an_html_form_with_a_control_character_is_refused_naming_the_field(signed_in, character):
    response = signed_in.post("/customers/new/", {**CREATE, "family_name": f"Mor{character}eau"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Control characters" in body and "Traceback" not in body
    assert "In the field “family_name”" in body
    assert Customer.objects.count() == 0


def test_a_textarea_keeps_its_line_breaks_and_tabs(signed_in):
    response = signed_in.post("/customers/new/", {**CREATE, "notes": "ligne 1\r\nligne 2\tfin"})
    assert response.status_code == 302
    assert Customer.objects.get().notes.replace("\r\n", "\n") == "ligne 1\nligne 2\tfin"


def test_an_edit_form_with_a_control_character_changes_nothing(signed_in):
    customer = CustomerFactory(given_name="Jean", family_name="Dupont")
    identity = {"kind": "person", "given_name": "Je\x07an", "family_name": "Durand", "language": "fr"}
    response = signed_in.post(f"/customers/{customer.pk}/edit/", identity)
    assert response.status_code == 400 and "In the field “given_name”" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.given_name, customer.family_name) == ("Jean", "Dupont")


def test_the_api_refuses_a_control_character_with_a_field_error(signed_in):
    response = post_json(signed_in, "/api/v1/customers/", {"given_name": "Jeanne", "family_name": "Mor\x07eau"})
    assert response.status_code == 400
    assert error_fields(response)["family_name"][0]["code"] == "control_character"
    assert Customer.objects.count() == 0


def test_the_api_bulk_refuses_a_control_character_in_a_nested_record(signed_in):
    records = [{"source": "erp", "external_id": "E1", "given_name": "Jeanne", "family_name": "Moreau",
                "addresses": [{"line4": "3 rue\x0c Oberkampf", "postcode": "75011", "city": "Paris"}]}]  # fmt: skip
    response = post_json(signed_in, "/api/v1/customers/bulk/", {"records": records})
    assert response.status_code == 400
    assert error_fields(response) == {"records.0.addresses.0.line4": [
        {"code": "control_character", "message": response.json()["error"]["message"]}]}  # fmt: skip
    assert Customer.objects.count() == 0


# -- email addresses -------------------------------------------------------------------------------


def test_the_create_form_refuses_an_email_django_would_not_send_to(signed_in):
    response = signed_in.post("/customers/new/", {**CREATE, "email": BAD_EMAIL})
    assert response.status_code == 200
    assert f"“{escape(BAD_EMAIL)}” is not a valid email address." in response.content.decode()
    assert (Customer.objects.count(), ContactPoint.objects.count()) == (0, 0)


def test_the_contact_point_form_refuses_it(signed_in):
    customer = CustomerFactory()
    response = signed_in.post(f"/customers/{customer.pk}/contact-points/new/", {"kind": "email", "value": BAD_EMAIL})
    assert f"“{escape(BAD_EMAIL)}” is not a valid email address." in response.content.decode()
    assert not ContactPoint.objects.exists()


@pytest.mark.parametrize("path", ["customer", "contact_point", "bulk"])
def test_the_api_refuses_it_naming_the_field(signed_in, path):
    customer = CustomerFactory()
    if path == "customer":
        response = post_json(signed_in, "/api/v1/customers/", {"family_name": "Moreau", "emails": [BAD_EMAIL]})
        field = "emails.0"
    elif path == "contact_point":
        response = post_json(signed_in, f"/api/v1/customers/{customer.pk}/contact-points/",
                             {"kind": "email", "value": BAD_EMAIL})  # fmt: skip
        field = "value"
    else:
        records = [{"source": "erp", "external_id": "E1", "family_name": "Moreau", "emails": [BAD_EMAIL]}]
        response = post_json(signed_in, "/api/v1/customers/bulk/", {"records": records})
        assert response.status_code == 200
        result = response.json()["results"][0]
        assert result["status"] == "error" and "emails.0" in result["errors"], result
        assert result["errors"]["emails.0"][0]["code"] == "invalid_email"
        assert (Customer.objects.count(), ContactPoint.objects.count()) == (1, 0)
        return
    assert response.status_code == 400, response.content
    assert error_fields(response)[field][0]["code"] == "invalid_email"
    assert (Customer.objects.count(), ContactPoint.objects.count()) == (1, 0)


def test_an_import_row_with_it_is_imported_without_it_and_the_report_says_why(django_capture_on_commit_callbacks):
    job = run_import(f"Id;Nom;E-mail\nA1;Moreau;{BAD_EMAIL}\nA2;Durand;ok@example.fr\n",
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert not ContactPoint.objects.filter(value__contains="<").exists()
    assert ContactPoint.objects.filter(value="ok@example.fr").exists()
    error = ImportRowError.objects.get(job=job, row_number=2)  # the line of the file
    assert error.value == BAD_EMAIL and "not a valid email address" in error.reason


# -- the other CSV files ---------------------------------------------------------------------------


def test_the_import_report_follows_the_users_language(django_capture_on_commit_callbacks):
    job = run_import("Id;Nom;E-mail\nA1;Moreau;+cmd@\n", django_capture_on_commit_callbacks)
    english = report_csv(job=job)
    assert not english.startswith("\ufeff") and english.splitlines()[0] == "row,column,value,reason"
    with translation.override("fr"):
        french = report_csv(job=job)
    assert french.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(french.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows[0]) == 4 and rows[0][0] != "row"
    assert rows[1][:3] == ["2", "E-mail", "'+cmd@"]


def test_the_gdpr_zip_for_a_french_user_opens_as_columns(client, supervisor):
    customer = CustomerFactory(given_name="=1+1", family_name="Hélène")
    client.force_login(supervisor)
    response = client.get(f"/customers/{customer.pk}/export/", {"format": "zip"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    raw = archive.read("customers.Customer.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert (rows[0]["given_name"], rows[0]["family_name"]) == ("'=1+1", "Hélène")


# -- custom attribute labels -----------------------------------------------------------------------


@pytest.fixture
def loyalty():
    AttributeDefinition.objects.create(key="loyalty_card", label="Loyalty card number",
                                       label_fr="Numéro de carte de fidélité", type="text")  # fmt: skip
    return CustomerFactory(attributes={"loyalty_card": "LC-1234"})


def test_the_360_page_shows_the_attribute_label_in_the_pages_language(signed_in, loyalty):
    french = signed_in.get(f"/customers/{loyalty.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = signed_in.get(f"/customers/{loyalty.pk}/").content.decode()
    assert "Numéro de carte de fidélité" in french and "Loyalty card number" not in french
    assert "Loyalty card number" in english and "Numéro de carte de fidélité" not in english


def test_the_edit_form_and_the_list_filter_label_it_in_the_pages_language(signed_in, loyalty):
    form = signed_in.get(f"/customers/{loyalty.pk}/edit/", HTTP_ACCEPT_LANGUAGE="fr")
    assert form.context["form"].fields["attr_loyalty_card"].label == "Numéro de carte de fidélité"
    listing = signed_in.get("/customers/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<option value="loyalty_card">Numéro de carte de fidélité</option>' in listing


def test_an_attribute_without_a_french_label_shows_the_english_one(signed_in):
    AttributeDefinition.objects.create(key="household", label="Household size", type="number")
    customer = CustomerFactory(attributes={"household": 3})
    assert "Household size" in signed_in.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
