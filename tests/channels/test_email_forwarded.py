"""Email in: a message forwarded as an attachment (``message/rfc822``) is kept and shown; a body that
lies about its charset (UTF-8 declared, windows-1252 written) is read as the docs promise."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest
from django.urls import reverse

from channels.models import Attachment
from channels.services.email_in import email_inbound_record
from tests.channels import email_support

pytestmark = pytest.mark.django_db
media = email_support.media


def _forward(*, inner_html: str | None = None, filename: str | None = None) -> bytes:
    inner = EmailMessage()
    inner["From"] = "Transporteur Rapide <suivi@transporteur.example>"
    inner["To"] = "heloise@example.fr"
    inner["Subject"] = "Votre colis 8812 est en retard"
    inner["Date"] = "Mon, 23 Nov 2026 08:30:00 +0100"
    inner["Message-ID"] = "<inner-8812@transporteur.example>"
    inner.set_content("Bonjour,\nVotre colis 8812 arrivera le 28 novembre.\nLe service client")
    if inner_html:
        inner.add_alternative(inner_html, subtype="html")
    outer = EmailMessage()
    outer["From"] = "Héloïse Martin <heloise@example.fr>"
    outer["To"] = "support@relais.example"
    outer["Subject"] = "Fwd: Votre colis 8812 est en retard"
    outer["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    outer["Message-ID"] = "<outer-8812@example.fr>"
    outer.set_content("Voici le message du transporteur, que se passe-t-il ?")
    outer.add_attachment(inner)
    if filename:
        outer.get_payload()[1].set_param("filename", filename, header="Content-Disposition")
    return outer.as_bytes()


def test_a_forwarded_message_is_kept_as_an_eml_attachment(media):
    result = email_inbound_record(raw=_forward())

    [attachment] = Attachment.objects.filter(interaction=result.interaction)
    assert attachment.filename == "Votre colis 8812 est en retard.eml"
    assert attachment.content_type == "message/rfc822"
    stored = email.message_from_bytes(attachment.file.read(), policy=policy.default)
    assert stored["Message-ID"] == "<inner-8812@transporteur.example>"
    assert "arrivera le 28 novembre" in stored.get_body(("plain",)).get_content()
    assert result.dropped == []


def test_a_forwarded_message_keeps_the_file_name_its_sender_gave(media):
    result = email_inbound_record(raw=_forward(filename="retard.eml"))

    assert list(Attachment.objects.filter(interaction=result.interaction).values_list("filename", flat=True)) == [
        "retard.eml"
    ]


def test_the_thread_shows_who_sent_the_forwarded_message_its_subject_date_and_text(client, agent, media):
    result = email_inbound_record(raw=_forward())
    assert result.interaction.metadata["forwarded"] == [
        {
            "from": "Transporteur Rapide <suivi@transporteur.example>",
            "subject": "Votre colis 8812 est en retard",
            "date": "Mon, 23 Nov 2026 08:30:00 +0100",
            "text": "Bonjour,\nVotre colis 8812 arrivera le 28 novembre.\nLe service client",
        }
    ]
    client.force_login(agent)

    page = client.get(reverse("channels:email_thread", kwargs={"pk": result.conversation.pk})).content.decode()

    assert "Voici le message du transporteur" in page
    assert 'data-testid="forwarded-message"' in page
    assert "Transporteur Rapide &lt;suivi@transporteur.example&gt;" in page
    assert "Mon, 23 Nov 2026 08:30:00 +0100" in page
    assert "Votre colis 8812 arrivera le 28 novembre." in page
    assert "Votre colis 8812 est en retard.eml" in page


def test_a_forwarded_html_only_message_is_shown_as_text_never_as_markup(client, agent, media):
    inner_html = '<p>Suivi <b>8812</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif">'
    raw = _forward(inner_html=inner_html).replace(b"Bonjour,", b"Bonjour")  # keep the plain part too
    result = email_inbound_record(raw=raw)
    [forwarded] = result.interaction.metadata["forwarded"]
    assert "<" not in forwarded["text"]
    client.force_login(agent)

    page = client.get(reverse("channels:email_thread", kwargs={"pk": result.conversation.pk})).content.decode()

    assert "tracker.example" not in page and "alert(1)" not in page


def _raw_with_body(body: bytes, *, charset: str = "utf-8", transfer: str = "8bit") -> bytes:
    return (
        b"From: Heloise <heloise@example.fr>\r\nTo: support@relais.example\r\nSubject: Facture\r\n"
        b"Message-ID: <cp1252-" + charset.encode() + b"-" + transfer.encode() + b"@example.fr>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: " + transfer.encode() + b"\r\n\r\n" + body + b"\r\n"
    )


@pytest.mark.parametrize(
    ("body", "transfer"),
    [
        (b"Total : 45 \x80, pay\xe9 le 3 \x96 merci \x93vraiment\x94", "8bit"),
        (b"Total : 45 =80, pay=E9 le 3 =96 merci =93vraiment=94", "quoted-printable"),
    ],
)
def test_a_body_declared_utf8_but_written_in_windows_1252_is_read_as_windows_1252(body, transfer, media):
    interaction = email_inbound_record(raw=_raw_with_body(body, transfer=transfer)).interaction

    assert "Total : 45 €, payé le 3 – merci “vraiment”" in interaction.body
    assert "\ufffd" not in interaction.body and "\ufffd" not in interaction.summary


def test_a_body_declared_latin1_with_windows_1252_punctuation_keeps_the_euro_sign(media):
    interaction = email_inbound_record(raw=_raw_with_body(b"Prix : 12 \x80", charset="iso-8859-1")).interaction

    assert "Prix : 12 €" in interaction.body


def test_a_real_utf8_body_is_unchanged(media):
    interaction = email_inbound_record(raw=_raw_with_body("Total : 45 €, payé".encode())).interaction

    assert "Total : 45 €, payé" in interaction.body
