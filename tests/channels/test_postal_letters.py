"""Letters to one customer: the PDF's address block in the envelope window, the timeline, refusals."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from channels.documents.letters import letter_pdf, window_rectangle
from channels.models import Interaction, Letter, ResponseTemplate
from channels.services.postal import letter_create
from crm.errors import ApplicationError
from tests.customers_factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SIX_LINES = {
    "line1": "MADAME ISABELLE DE LA FONTAINE-MARTIN",  # 37 characters: the widest a line gets
    "line2": "APPARTEMENT 12 ESCALIER B ETAGE 3",
    "line3": "RESIDENCE LES JARDINS DE LA SAONE",
    "line4": "125 BOULEVARD DES BELGES",
    "line5": "BP 40021 LA CROIX-ROUSSE",
    "line6": "69004 LYON",
}


def _texts_with_positions(pdf_bytes: bytes, page: int = 0) -> list[tuple[str, float, float, float]]:
    """``(text, x, y, font size)`` of every string drawn on a page, in PDF points (origin bottom left)."""
    found = []

    def visitor(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        # Text space to page space: the text matrix, then the current transformation matrix.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        found.append((text.strip(), x, y, font_size * tm[0]))

    PdfReader(io.BytesIO(pdf_bytes)).pages[page].extract_text(visitor_text=visitor)
    return found


@pytest.fixture
def template():
    return ResponseTemplate.objects.create(
        channel="letter", name="Résiliation", language="fr", subject="Votre demande de résiliation",
        body="Madame, Monsieur,\n\nNous accusons réception de votre demande, {{ customer.given_name }}.\n\n"
             "Veuillez agréer nos salutations distinguées.",
    )  # fmt: skip


def test_every_address_line_prints_inside_the_envelope_window(agent):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    customer = CustomerFactory()
    AddressFactory(customer=customer, **SIX_LINES, postcode="69004", city="Lyon")
    letter = letter_create(customer=customer, subject="Votre contrat", body="Bonjour.", acting_user=agent)

    drawn = _texts_with_positions(letter_pdf(letter))

    x0, y0, x1, y1 = window_rectangle()
    by_text = {text: (x, y, size) for text, x, y, size in drawn}
    for line in SIX_LINES.values():
        assert line in by_text, f"{line!r} is not in the PDF"
        x, y, size = by_text[line]
        width = stringWidth(line, "Helvetica", size)
        assert x0 <= x and x + width <= x1, f"{line!r} leaves the window horizontally"
        assert y0 <= y - 0.25 * size and y + size <= y1, f"{line!r} leaves the window vertically"
    # Nothing else is printed in the window (the sender, date or subject would show through it).
    others = [t for t, x, y, _s in drawn if x0 <= x <= x1 and y0 <= y <= y1 and t not in SIX_LINES.values()]
    assert others == []


def test_a_letter_is_on_the_timeline_with_the_postal_cost(client, agent, template):
    customer = CustomerFactory(given_name="Inès")
    AddressFactory(customer=customer)
    client.force_login(agent)
    url = reverse("channels:letter_compose", kwargs={"pk": customer.pk})

    filled = client.get(url, {"template": template.pk})
    preview = client.post(url, {"template": template.pk, "subject": "Votre demande", "body": "Bonjour Inès.",
                                "action": "preview"})  # fmt: skip
    created = client.post(url, {"template": template.pk, "subject": "Votre demande", "body": "Bonjour Inès.",
                                "action": "create"})  # fmt: skip

    assert "Nous accusons réception de votre demande, Inès." in filled.content.decode()
    assert preview.status_code == 200 and "Bonjour Inès." in preview.content.decode()
    letter = Letter.objects.get()
    assert created.status_code == 302 and created.url == reverse("channels:letter_detail", kwargs={"pk": letter.pk})
    assert letter.address_lines[3:] == ["12 RUE DE LA PAIX", "", "75002 PARIS"] and letter.template == template
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.channel, interaction.kind, interaction.direction) == ("postal_mail", "letter", "outbound")
    assert interaction.cost == Decimal("1.20") and interaction.agent == agent
    assert letter.interaction == interaction
    assert f'href="/channels/letters/{letter.pk}/"' in interaction.body  # from the timeline to the letter
    assert interaction.summary == "Bonjour Inès."
    pdf = client.get(reverse("channels:letter_pdf", kwargs={"pk": letter.pk}))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_it_refuses_a_customer_without_a_usable_address(client, agent):
    customer = CustomerFactory(given_name="Hugo", family_name="Petit")
    client.force_login(agent)
    url = reverse("channels:letter_compose", kwargs={"pk": customer.pk})

    page = client.get(url)
    refused = client.post(url, {"subject": "Objet", "body": "Texte", "action": "create"})

    assert b"Hugo Petit has no postal address. Add one to the record first." in page.content
    assert refused.status_code == 200 and b"has no postal address" in refused.content
    assert not Letter.objects.exists() and not Interaction.objects.exists()


def test_a_long_letter_continues_on_numbered_pages(agent):
    customer = CustomerFactory(language="fr")  # the letter is printed in the customer's language
    AddressFactory(customer=customer)
    body = "\n\n".join(f"Paragraphe {n}. " + "Un texte assez long pour remplir la ligne. " * 6 for n in range(40))

    letter = letter_create(customer=customer, subject="Conditions", body=body, acting_user=agent)
    reader = PdfReader(io.BytesIO(letter_pdf(letter)))

    assert len(reader.pages) >= 3
    last = reader.pages[-1].extract_text()
    assert f"page {len(reader.pages)} sur {len(reader.pages)}" in last
    assert "Paragraphe 39." in "".join(page.extract_text() for page in reader.pages)


def test_outsiders_cannot_write_or_read_letters(client, marketer, make_staff, agent):
    customer = CustomerFactory()
    AddressFactory(customer=customer)
    letter = letter_create(customer=customer, subject="Confidentiel", body="Votre dossier médical.", acting_user=agent)
    outsider = make_staff(None, username="outsider")

    client.force_login(marketer)
    compose = client.post(reverse("channels:letter_compose", kwargs={"pk": customer.pk}),
                          {"subject": "x", "body": "y", "action": "create"})  # fmt: skip
    client.force_login(outsider)
    detail = client.get(reverse("channels:letter_detail", kwargs={"pk": letter.pk}))
    pdf = client.get(reverse("channels:letter_pdf", kwargs={"pk": letter.pk}))

    assert compose.status_code == 403 and Letter.objects.count() == 1
    assert detail.status_code == 403 and b"Confidentiel" not in detail.content
    assert pdf.status_code == 403 and not pdf.content.startswith(b"%PDF")


def test_the_service_refuses_an_empty_text(agent):
    customer = CustomerFactory()
    AddressFactory(customer=customer)

    with pytest.raises(ApplicationError) as raised:
        letter_create(customer=customer, subject="Objet", body="   ", acting_user=agent)

    assert raised.value.field == "body" and not Letter.objects.exists()
