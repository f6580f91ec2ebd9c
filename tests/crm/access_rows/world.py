"""Real rows for the access map: a customer with a record, and one object of each kind a URL names.

Rows name objects by reference (``"@case"``) instead of ids that do not exist, so an allowed visitor
gets the page itself (and the test checks the page shows the object), not a 404 that any broken rule
would also give. Objects someone owns (a call, a follow-up, a chat, a saved filter, a token, an import)
belong to the sweep's agent ``visitor-agent``; ``OWNER``/``TEAMMATE``/``OUTSIDER`` in
``test_access_map.py`` then check the same objects with another agent of the same queue and an agent of
another queue.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from crm import roles, services
from tests.factories import UserFactory

# The words each object's page must show to a visitor allowed to open it.
CUSTOMER_NAME = "Ownerson"
OTHER_CUSTOMER_NAME = "Twinson"
CASE_SUBJECT = "Colis jamais arrivé"
CHAT_VISITOR = "Visiteur Accès"
CALLBACK_REASON = "Rappel au sujet du colis"
FOLLOW_UP_TITLE = "Rappeler pour le colis"
LETTER_SUBJECT = "Votre colis"
BATCH_NAME = "Relance colis"
QUEUE_NAME = "File accès"
THREAD_SUBJECT = "Où est mon colis ?"
IMPORT_NAME = "clients-acces.csv"
INVOICE_NUMBER = "FAC-ACCES-1"
CALLER = "+33612340000"


# What an allowed visitor must find in the answer for each object (HTML page, JSON or file).
MARKERS = {
    "customer": CUSTOMER_NAME, "email": CUSTOMER_NAME, "address": CUSTOMER_NAME, "invoice": INVOICE_NUMBER,
    "duplicate": OTHER_CUSTOMER_NAME, "queue": QUEUE_NAME, "case": CASE_SUBJECT, "interaction": CUSTOMER_NAME,
    "call": CUSTOMER_NAME, "thread": THREAD_SUBJECT, "attachment": "photo du colis", "chat": CHAT_VISITOR,
    "callback": CALLBACK_REASON, "follow_up": FOLLOW_UP_TITLE, "batch": BATCH_NAME, "letter": LETTER_SUBJECT,
    "saved_filter": "Mes clients", "import_job": IMPORT_NAME, "token": "Jeton accès",
    "segment": "Segment accès", "campaign_template": "Modèle accès", "campaign": "Campagne accès",
}  # fmt: skip


@dataclass
class World:
    owner: object = None
    objects: dict = field(default_factory=dict)

    def markers(self, kwargs: dict) -> set[str]:
        words = {MARKERS[value[1:]] for value in kwargs.values() if isinstance(value, str) and value.startswith("@")}
        return words | {CUSTOMER_NAME, self.objects["customer"].account_number}  # every object is this customer's

    def pks(self, kwargs: dict) -> set[int]:
        refs = [value[1:] for value in kwargs.values() if isinstance(value, str) and value.startswith("@")]
        return {self.objects[ref].pk for ref in refs}

    def resolve(self, kwargs: dict) -> dict:
        """``{"pk": "@case"}`` -> ``{"pk": <the case's id>}``; other values as they are."""
        return {key: self.objects[value[1:]].pk if isinstance(value, str) and value.startswith("@") else value
                for key, value in kwargs.items()}  # fmt: skip


def build_world(settings, tmp_path) -> World:
    from channels.choices import ConversationKind
    from channels.models import (
        Attachment,
        CallbackRequest,
        CallSession,
        Conversation,
        FollowUp,
        Letter,
        LetterBatch,
        QueueMember,
        ResponseTemplate,
    )
    from customers.models import DuplicatePair, ImportJob, Invoice, SavedFilter
    from tests.channels_factories import CaseFactory, InteractionFactory, QueueFactory, SiteFactory
    from tests.customers_factories import AddressFactory, ConsentFactory, CustomerFactory, EmailFactory

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The sweep's agent (the visitor fixture may have signed them in already: their password stays).
    owner = get_user_model().objects.filter(username="visitor-agent").first() or UserFactory(
        role=roles.AGENT, username="visitor-agent"
    )
    world = World(owner=owner)
    o = world.objects

    o["customer"] = customer = CustomerFactory(given_name="Alix", family_name=CUSTOMER_NAME)
    o["email"] = EmailFactory(customer=customer, value="alix.ownerson@example.fr")
    o["address"] = AddressFactory(customer=customer)
    ConsentFactory(customer=customer)  # email marketing, granted
    o["invoice"] = Invoice.objects.create(
        customer=customer, number=INVOICE_NUMBER, external_id=INVOICE_NUMBER, amount=Decimal("29.00"),
        issued_on=datetime.date(2026, 10, 1), due_on=datetime.date(2026, 10, 31),
    )  # fmt: skip
    twin = CustomerFactory(given_name="Alix", family_name=OTHER_CUSTOMER_NAME)
    o["other_customer"] = twin
    low, high = sorted([customer, twin], key=lambda c: c.pk)
    o["duplicate"] = DuplicatePair.objects.create(customer_low=low, customer_high=high, score=Decimal("0.910"))

    o["queue"] = queue = QueueFactory(name=QUEUE_NAME)
    QueueMember.objects.create(queue=queue, user=owner)
    o["case"] = CaseFactory(customer=customer, subject=CASE_SUBJECT, assignee=owner, queue=queue)
    o["interaction"] = interaction = InteractionFactory(customer=customer, subject="Appel entrant")
    o["call"] = CallSession.objects.create(customer=customer, call_id="access-call-1", caller_number=CALLER,
                                           caller_e164=CALLER, agent=owner, interaction=interaction)  # fmt: skip
    o["thread"] = Conversation.objects.create(customer=customer, kind=ConversationKind.EMAIL,
                                                       subject=THREAD_SUBJECT)  # fmt: skip
    body = b"Bonjour, voici la photo du colis."
    o["attachment"] = Attachment.objects.create(
        customer=customer, interaction=interaction, filename="colis.txt", content_type="text/plain",
        size=len(body), sha256=hashlib.sha256(body).hexdigest(), file=ContentFile(body, name="colis.txt"),
    )  # fmt: skip
    site = SiteFactory()
    o["chat"] = Conversation.objects.create(kind=ConversationKind.CHAT, site=site, customer=customer, queue=queue,
                                            assignee=owner, visitor_name=CHAT_VISITOR,
                                            subject=CHAT_VISITOR)  # fmt: skip
    now = timezone.now()
    o["callback"] = CallbackRequest.objects.create(
        customer=customer, phone=CALLER, reason=CALLBACK_REASON, preferred_from=now,
        preferred_to=now + datetime.timedelta(hours=2), assignee=owner,
    )  # fmt: skip
    o["follow_up"] = FollowUp.objects.create(customer=customer, title=FOLLOW_UP_TITLE, assignee=owner,
                                             due_at=now + datetime.timedelta(days=1), created_by=owner)  # fmt: skip
    template = ResponseTemplate.objects.create(channel="letter", name="Courrier colis", subject=LETTER_SUBJECT,
                                               body="Madame, Monsieur, votre colis est en route.")  # fmt: skip
    o["batch"] = batch = LetterBatch.objects.create(name=BATCH_NAME, template=template, created_by=owner)
    o["letter"] = Letter.objects.create(customer=customer, address=o["address"], subject=LETTER_SUBJECT,
                                        body="Madame, Monsieur, votre colis est en route.", template=template,
                                        batch=batch, created_by=owner,
                                        address_lines=["Alix Ownerson", "1 rue du Colis", "75002 Paris"])  # fmt: skip
    o["saved_filter"] = SavedFilter.objects.create(owner=owner, name="Mes clients", query="stage=customer")
    o["import_job"] = ImportJob.objects.create(
        kind="customers", source="csv", original_name=IMPORT_NAME, created_by=owner,
        file=ContentFile(b"given_name;family_name\nAlix;Ownerson\n", name=IMPORT_NAME),
    )  # fmt: skip
    o["token"], _key = services.api_token_create(user=owner, name="Jeton accès", acting_user=owner)
    _campaign_objects(o)
    return world


def _campaign_objects(o: dict) -> None:
    """A segment holding the customer, an email template and a draft campaign on them."""
    from campaigns.models import Segment, SegmentMember, Template
    from campaigns.services.campaigns import campaign_create

    o["segment"] = segment = Segment.objects.create(name=MARKERS["segment"], rules={"all": []}, size=1)
    SegmentMember.objects.create(segment=segment, customer=o["customer"])
    o["campaign_template"] = template = Template.objects.create(
        name=MARKERS["campaign_template"], channel="email", language="fr", subject="Bonjour",
        html="<p>Bonjour {{ customer.given_name }}</p>",
    )  # fmt: skip
    o["campaign"] = campaign_create(acting_user=None, name=MARKERS["campaign"], channel="email", template=template,
                                    segments=[segment])  # fmt: skip
