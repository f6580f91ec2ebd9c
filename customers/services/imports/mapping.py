"""Which file column feeds which field: the fields of each kind of import, suggestions from header
names (French or English), and the mapping saved per source so the next file maps itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.errors import ApplicationError
from customers.models import ImportMapping
from customers.normalise import fold

Kind = ImportMapping.Kind


@dataclass(frozen=True)
class ImportField:
    name: str
    label: object
    synonyms: tuple[str, ...] = ()


CUSTOMER_REFERENCE = (
    ImportField(
        "customer_external_id",
        gettext_lazy("Customer id in the source"),
        ("customer id", "id client", "client id", "ref client", "reference client", "code client"),
    ),
    ImportField("account_number", gettext_lazy("Account number"), ("account number", "numero de compte", "compte")),
    ImportField("customer_email", gettext_lazy("Customer email"), ("customer email", "email client", "e-mail client")),
)

FIELDS: dict[str, tuple[ImportField, ...]] = {
    Kind.CUSTOMERS: (
        ImportField(
            "external_id",
            gettext_lazy("Id in the source"),
            ("id", "external id", "identifiant", "ref", "reference", "code client", "customer id", "id client"),
        ),
        ImportField("title", gettext_lazy("Title"), ("civilite", "title", "salutation")),
        ImportField("given_name", gettext_lazy("Given name"), ("prenom", "first name", "firstname", "given name")),
        ImportField(
            "family_name",
            gettext_lazy("Family name"),
            ("nom", "nom de famille", "last name", "lastname", "surname", "family name", "name"),
        ),
        ImportField(
            "company_name",
            gettext_lazy("Company"),
            ("societe", "entreprise", "raison sociale", "company", "company name", "organisation"),
        ),
        ImportField(
            "birth_date",
            gettext_lazy("Birth date"),
            ("date de naissance", "naissance", "birth date", "birthdate", "date of birth", "dob"),
        ),
        ImportField("email", gettext_lazy("Email"), ("e-mail", "email", "mail", "courriel", "adresse email")),
        ImportField(
            "phone",
            gettext_lazy("Phone"),
            ("telephone", "tel", "phone", "phone number", "portable", "mobile", "gsm", "numero de telephone"),
        ),
        ImportField(
            "line2",
            gettext_lazy("Address line 2 (apartment, floor)"),
            ("complement", "appartement", "etage", "address 2", "apartment"),
        ),
        ImportField("line3", gettext_lazy("Address line 3 (building)"), ("batiment", "residence", "building")),
        ImportField(
            "line4",
            gettext_lazy("Address line 4 (number and street)"),
            ("adresse", "rue", "voie", "address", "street", "address 1", "adresse 1"),
        ),
        ImportField(
            "line5",
            gettext_lazy("Address line 5 (locality, PO box)"),
            ("lieu-dit", "lieu dit", "boite postale", "bp", "po box"),
        ),
        ImportField("postcode", gettext_lazy("Postcode"), ("code postal", "cp", "postcode", "postal code", "zip")),
        ImportField("city", gettext_lazy("City"), ("ville", "commune", "localite", "city", "town")),
        ImportField("country", gettext_lazy("Country (ISO code)"), ("pays", "country", "code pays")),
        ImportField("language", gettext_lazy("Language"), ("langue", "language")),
        ImportField("stage", gettext_lazy("Stage"), ("stade", "etape", "stage", "lifecycle stage")),
        ImportField("tags", gettext_lazy("Tags (comma-separated)"), ("tags", "etiquettes")),
        ImportField("notes", gettext_lazy("Notes"), ("notes", "commentaire", "commentaires", "remarques", "comment")),
        ImportField(
            "consent_email_marketing",
            gettext_lazy("Consent: email marketing (yes/no)"),
            (
                "accepte newsletter",
                "newsletter",
                "optin email",
                "opt in email",
                "consentement email",
                "accepte email",
                "email marketing",
                "accepte les emails",
            ),
        ),
        ImportField(
            "consent_sms_marketing",
            gettext_lazy("Consent: SMS marketing (yes/no)"),
            ("accepte sms", "optin sms", "opt in sms", "consentement sms", "sms marketing"),
        ),
        ImportField(
            "consent_phone_marketing",
            gettext_lazy("Consent: phone marketing (yes/no)"),
            ("accepte appels", "optin telephone", "consentement telephone", "phone marketing"),
        ),
        ImportField(
            "consent_postal_mail_marketing",
            gettext_lazy("Consent: postal marketing (yes/no)"),
            ("accepte courrier", "optin courrier", "consentement courrier", "postal marketing"),
        ),
        ImportField(
            "consent_email_partners",
            gettext_lazy("Consent: partners' offers by email (yes/no)"),
            ("offres partenaires", "accepte partenaires", "optin partenaires", "partners"),
        ),
        ImportField(
            "consent_web_personalisation",
            gettext_lazy("Consent: web personalisation (yes/no)"),
            ("personnalisation web", "accepte personnalisation", "web personalisation"),
        ),
    ),
    Kind.ORDERS: (
        ImportField(
            "external_id", gettext_lazy("Order id in the source"), ("id commande", "order id", "external id", "id")
        ),
        ImportField(
            "number",
            gettext_lazy("Order number"),
            ("numero de commande", "numero commande", "commande", "order number", "order", "no commande"),
        ),
        *CUSTOMER_REFERENCE,
        ImportField(
            "placed_at",
            gettext_lazy("Order date"),
            ("date de commande", "date commande", "date", "order date", "placed at"),
        ),
        ImportField("status", gettext_lazy("Status"), ("statut", "etat", "status")),
        ImportField(
            "sales_channel", gettext_lazy("Sales channel"), ("canal", "canal de vente", "sales channel", "channel")
        ),
        ImportField("store", gettext_lazy("Store or agency"), ("magasin", "agence", "store", "shop")),
        ImportField(
            "total_amount", gettext_lazy("Total"), ("montant", "total", "montant ttc", "amount", "total amount")
        ),
        ImportField("currency", gettext_lazy("Currency"), ("devise", "currency")),
    ),
    Kind.CONTRACTS: (
        ImportField("external_id", gettext_lazy("Contract id in the source"), ("id contrat", "contract id", "id")),
        ImportField(
            "number", gettext_lazy("Contract number"), ("numero de contrat", "contrat", "contract number", "contract")
        ),
        *CUSTOMER_REFERENCE,
        ImportField("plan", gettext_lazy("Plan"), ("offre", "formule", "plan", "product")),
        ImportField("status", gettext_lazy("Status"), ("statut", "etat", "status")),
        ImportField("start_date", gettext_lazy("Start date"), ("date de debut", "debut", "start date", "start")),
        ImportField("end_date", gettext_lazy("End date"), ("date de fin", "fin", "end date", "end")),
        ImportField(
            "monthly_amount",
            gettext_lazy("Monthly amount"),
            ("mensualite", "montant mensuel", "monthly amount", "monthly"),
        ),
        ImportField("currency", gettext_lazy("Currency"), ("devise", "currency")),
    ),
}

# Each inner tuple: at least one of these fields must be mapped.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    Kind.CUSTOMERS: (("family_name", "company_name"),),
    Kind.ORDERS: (
        ("number", "external_id"),
        ("customer_external_id", "account_number", "customer_email"),
        ("placed_at",),
        ("total_amount",),
    ),
    Kind.CONTRACTS: (
        ("number", "external_id"),
        ("customer_external_id", "account_number", "customer_email"),
        ("plan",),
        ("start_date",),
    ),
}


def fields_of(kind: str) -> dict[str, ImportField]:
    return {f.name: f for f in FIELDS[kind]}


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text).replace("-", " ")).split())


def mapping_suggest(*, kind: str, header: list[str]) -> dict[str, str]:
    """``{column: field}`` guessed from header names ("Nom", "Prénom", "E-mail", "Code postal"...).

    A field is given to the first column that names it; columns that name nothing are left out.
    """
    by_synonym: dict[str, str] = {}
    for field in FIELDS[kind]:
        for name in (field.name.replace("_", " "), *field.synonyms):
            by_synonym.setdefault(_header_key(name), field.name)
    mapping, taken = {}, set()
    for column in header:
        field = by_synonym.get(_header_key(column))
        if field and field not in taken and column:
            mapping[column] = field
            taken.add(field)
    return mapping


def mapping_for(*, source: str, kind: str, header: list[str]) -> dict[str, str]:
    """The mapping saved for ``source`` (for the columns this file has), else the suggestion."""
    saved = ImportMapping.objects.filter(source=source, kind=kind).first()
    suggestion = mapping_suggest(kind=kind, header=header)
    if saved is None:
        return suggestion
    mapped = {column: field for column, field in saved.columns.items() if column in header and field}
    return mapped or suggestion


def mapping_clean(*, kind: str, header: list[str], columns: dict[str, str]) -> dict[str, str]:
    """Check a mapping: known columns and fields, no field twice, required fields present.

    Raises ``ApplicationError`` naming the missing required fields; returns the mapping without
    the ignored (empty) entries.
    """
    known = fields_of(kind)
    cleaned: dict[str, str] = {}
    for column, field in columns.items():
        if not field:
            continue
        if column not in header:
            raise ApplicationError(
                "unknown_column", _("The file has no column “%(column)s”.") % {"column": column}, field="columns"
            )
        if field not in known:
            raise ApplicationError(
                "unknown_field", _("“%(field)s” is not a field of this import.") % {"field": field}, field="columns"
            )
        if field in cleaned.values():
            raise ApplicationError(
                "mapped_twice",
                _("Two columns are mapped to “%(field)s”.") % {"field": known[field].label},
                field="columns",
            )
        cleaned[column] = field
    missing = [group for group in REQUIRED[kind] if not set(group) & set(cleaned.values())]
    if missing:
        names = "; ".join(_(" or ").join(str(known[f].label) for f in group) for group in missing)
        raise ApplicationError(
            "missing_columns",
            _("Required columns are missing: %(names)s. Add them to the file or map them.") % {"names": names},
            field="columns",
        )
    return cleaned


@transaction.atomic
def mapping_save(*, source: str, kind: str, columns: dict[str, str]) -> ImportMapping:
    """Remember ``columns`` as the mapping of ``source`` for this kind of import."""
    mapping, _created = ImportMapping.objects.update_or_create(source=source, kind=kind, defaults={"columns": columns})
    return mapping
