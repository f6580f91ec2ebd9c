"""Demo data of the channels app for ``seed_demo``: queues, SLA policies, agent profiles, templates, the
demo site, and a timeline on every channel for the demo customers, with some cases in the queues.

Idempotent (configuration by natural key; the timeline is written once, recognised by its ``demo-``
references) and set-based: interactions are written with ``bulk_create``, a few thousand in a second.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import channels.demo_web  # noqa: F401 (registers the web area's seeder: only ``channels.demo`` is discovered)
from channels.choices import CaseCategory, CasePriority, Direction, InteractionChannel, InteractionKind
from channels.demo_web import demo_site_ensure
from channels.models import (
    AgentProfile,
    Case,
    FollowUp,
    Interaction,
    Queue,
    QueueMember,
    ResponseTemplate,
    SlaPolicy,
)
from channels.services.cases import case_open
from channels.services.interactions import channel_cost, html_sanitise, text_summary
from crm import roles
from crm.demo import DemoOptions, DemoSeeder, demo_seeder_register
from customers.models import Customer

DEMO_PREFIX = "demo-"
# Customers that get a timeline (the first ones by id); the others stay without contact, like new prospects.
TIMELINE_CUSTOMERS = 600
STORES = ["Paris 11e", "Lyon Part-Dieu", "Lille Centre", "Nantes Atlantis", "Bordeaux Lac"]

SLA_POLICIES = [  # category, first response, resolution (business minutes)
    (CaseCategory.REQUEST, 240, 1080),
    (CaseCategory.COMPLAINT, 120, 1620),
    (CaseCategory.INFORMATION, 480, 1080),
    (CaseCategory.CLAIM, 240, 2700),
]

TEMPLATES = [  # channel, name, language, subject, body
    ("email", "Accusé de réception", "fr", "Votre demande {{ case.number }}",
     "Bonjour {{ customer.display_name }},\n\nNous avons bien reçu votre demande et revenons vers vous sous "
     "48 heures ouvrées.\n\nCordialement,\n{{ agent.name }}"),
    ("email", "Accusé de réception", "en", "Your request {{ case.number }}",
     "Hello {{ customer.display_name }},\n\nWe have received your request and will answer within two working "
     "days.\n\nKind regards,\n{{ agent.name }}"),
    ("email", "Demande résolue", "fr", "Votre demande {{ case.number }} est résolue",
     "Bonjour {{ customer.display_name }},\n\nVotre demande est résolue. Répondez à ce message si ce n'est pas "
     "le cas.\n\nCordialement,\n{{ agent.name }}"),
    ("email", "Demande résolue", "en", "Your request {{ case.number }} is resolved",
     "Hello {{ customer.display_name }},\n\nYour request is resolved. Reply to this message if it is not.\n\n"
     "Kind regards,\n{{ agent.name }}"),
    ("sms", "Rendez-vous", "fr", "",
     "Relais : votre rendez-vous est confirmé. Répondez STOP pour ne plus recevoir de SMS."),
    ("sms", "Rendez-vous", "en", "", "Relais: your appointment is confirmed. Reply STOP to opt out."),
    ("letter", "Confirmation de résiliation", "fr", "Confirmation de résiliation",
     "Madame, Monsieur,\n\nNous vous confirmons la résiliation de votre contrat.\n\nVeuillez agréer nos "
     "salutations distinguées."),
    ("letter", "Confirmation de résiliation", "en", "Cancellation confirmed",
     "Dear customer,\n\nWe confirm that your contract is cancelled.\n\nYours faithfully."),
]  # fmt: skip

# What a contact on each channel looks like: kind, direction, subjects, outcomes.
CONTACTS = {
    InteractionChannel.PHONE: (InteractionKind.CALL, ["Question sur ma facture", "Panne de la box",
                                                      "Changement d'adresse", "Résiliation"],
                               ["résolu", "rappel prévu", "transféré", "messagerie"]),
    InteractionChannel.EMAIL: (InteractionKind.EMAIL, ["Re: votre commande", "Demande de remboursement",
                                                       "Attestation", "Retard de livraison"], [""]),
    InteractionChannel.WEB: (InteractionKind.WEB_SESSION, ["A visité le site : 8 pages, panier abandonné",
                                                           "A visité le site : fiche produit consultée"], [""]),
    InteractionChannel.FACE_TO_FACE: (InteractionKind.VISIT, ["Conseil achat", "Retour produit", "Devis"],
                                      ["vente", "devis remis", "sans suite"]),
    InteractionChannel.POSTAL_MAIL: (InteractionKind.LETTER, ["Confirmation de résiliation", "Relance"], [""]),
    InteractionChannel.SMS: (InteractionKind.SMS, ["Rendez-vous confirmé", "Colis expédié"], [""]),
    InteractionChannel.CHAT: (InteractionKind.CHAT, ["Suivi de commande", "Disponibilité en magasin"],
                              ["résolu", "transféré"]),
    InteractionChannel.SOCIAL: (InteractionKind.CHAT, ["Message privé : avis client"], [""]),
}  # fmt: skip
CHANNEL_WEIGHTS = [
    (InteractionChannel.PHONE, 30), (InteractionChannel.EMAIL, 25), (InteractionChannel.WEB, 15),
    (InteractionChannel.FACE_TO_FACE, 8), (InteractionChannel.POSTAL_MAIL, 4), (InteractionChannel.SMS, 10),
    (InteractionChannel.CHAT, 7), (InteractionChannel.SOCIAL, 1),
]  # fmt: skip


def _staff(role: str):
    return list(get_user_model().objects.filter(groups__name=role, is_active=True).order_by("pk"))


def _configuration(rng: random.Random) -> tuple[Queue, list]:
    agents, supervisors = _staff(roles.AGENT), _staff(roles.SUPERVISOR)
    general, _ = Queue.objects.get_or_create(slug="service-client", defaults={
        "name": "Service client", "assignment_rule": "round_robin", "is_default": True})  # fmt: skip
    complaints, _ = Queue.objects.get_or_create(slug="reclamations", defaults={
        "name": "Réclamations", "assignment_rule": "manual"})  # fmt: skip
    members = [QueueMember(queue=general, user=user) for user in agents]
    members += [QueueMember(queue=complaints, user=user) for user in [*supervisors, *agents[:3]]]
    QueueMember.objects.bulk_create(members, ignore_conflicts=True)
    for category, first, resolution in SLA_POLICIES:
        SlaPolicy.objects.get_or_create(category=category, priority="", defaults={
            "first_response_minutes": first, "resolution_minutes": resolution})  # fmt: skip
    profiles = [
        AgentProfile(user=user, extension=user.phone_extension or str(200 + index),
                     store=STORES[index % len(STORES)] if index % 3 == 0 else "")
        for index, user in enumerate([*agents, *supervisors])
    ]  # fmt: skip
    AgentProfile.objects.bulk_create(profiles, ignore_conflicts=True)
    for channel, name, language, subject, body in TEMPLATES:
        ResponseTemplate.objects.get_or_create(channel=channel, name=name, language=language,
                                               defaults={"subject": subject, "body": body})  # fmt: skip
    demo_site_ensure()
    return complaints, agents


def _timeline(rng: random.Random, customers: list[int], agents: list, now) -> int:
    costs = {channel: channel_cost(channel)[0] for channel in InteractionChannel.values}
    channels = [c for c, _ in CHANNEL_WEIGHTS]
    weights = [w for _, w in CHANNEL_WEIGHTS]
    rows = []
    for customer_id in customers:
        for _index in range(rng.randint(2, 12)):
            channel = rng.choices(channels, weights)[0]
            kind, subjects, outcomes = CONTACTS[channel]
            subject = rng.choice(subjects)
            body = html_sanitise(f"<p>{subject}.</p><p>Échange enregistré pour la démonstration.</p>")
            by_agent = channel in (InteractionChannel.PHONE, InteractionChannel.FACE_TO_FACE,
                                   InteractionChannel.CHAT) or rng.random() < 0.3  # fmt: skip
            rows.append(Interaction(
                customer_id=customer_id, channel=channel, kind=kind,
                direction=Direction.OUTBOUND if channel == InteractionChannel.POSTAL_MAIL or rng.random() < 0.3
                else Direction.INBOUND,
                occurred_at=now - datetime.timedelta(minutes=rng.randint(10, 60 * 24 * 540)),
                agent=rng.choice(agents) if by_agent and agents else None, subject=subject,
                summary=text_summary(body), body=body, outcome=rng.choice(outcomes),
                duration_seconds=rng.randint(45, 1500) if kind in (InteractionKind.CALL, InteractionKind.VISIT)
                else None,
                cost=costs[channel], external_id=f"{DEMO_PREFIX}{len(rows) + 1}",
                metadata={"store": rng.choice(STORES)} if kind == InteractionKind.VISIT else {},
            ))  # fmt: skip
    Interaction.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _cases(rng: random.Random, customers: list[int], complaints: Queue, agents: list) -> int:
    count = 0
    categories = list(CaseCategory.values)
    for customer in Customer.objects.filter(pk__in=customers[: max(1, len(customers) // 15)]).order_by("pk"):
        category = rng.choice(categories)
        case = case_open(
            customer=customer, subject=rng.choice(CONTACTS[InteractionChannel.PHONE][1]), channel="phone",
            category=category, priority=rng.choice([CasePriority.NORMAL, CasePriority.NORMAL, CasePriority.HIGH]),
            queue=complaints if category == CaseCategory.COMPLAINT else None,
        )  # fmt: skip
        Interaction.objects.filter(pk__in=Interaction.objects.filter(customer=customer, channel="phone")
                                   .values("pk")[:1]).update(case=case)  # fmt: skip
        if agents and rng.random() < 0.4:
            FollowUp.objects.create(customer=customer, case=case, title="Rappeler le client",
                                    due_at=timezone.now() + datetime.timedelta(days=rng.randint(1, 5)),
                                    assignee=case.assignee or rng.choice(agents))  # fmt: skip
        count += 1
    return count


@transaction.atomic
def seed_channels(options: DemoOptions) -> str:
    """Queues, SLA policies, agent profiles, templates, the demo site; a timeline and cases once."""
    rng = random.Random(options.seed + 5)
    complaints, agents = _configuration(rng)
    if Interaction.objects.filter(external_id__startswith=DEMO_PREFIX).exists():
        return f"channels: configuration checked, timeline already seeded ({Case.objects.count()} cases)"
    customers = list(Customer.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
                     .order_by("pk").values_list("pk", flat=True)[:TIMELINE_CUSTOMERS])  # fmt: skip
    written = _timeline(rng, customers, agents, timezone.now())
    cases = _cases(rng, customers, complaints, agents)
    return f"channels: {written} interactions for {len(customers)} customers, {cases} cases, queues and templates"


demo_seeder_register(DemoSeeder("channels", seed_channels, order=50))
