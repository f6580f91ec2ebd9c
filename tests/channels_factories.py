"""factory_boy factories for the channels app (shared by every area's tests)."""

from __future__ import annotations

import factory
from django.utils import timezone

from channels.choices import CaseCategory, CaseStatus, ConversationKind, Direction, InteractionChannel
from channels.models import Case, Conversation, Interaction, Queue, QueueMember, Site, SlaPolicy
from tests.customers_factories import CustomerFactory


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")


class QueueMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueMember

    queue = factory.SubFactory(QueueFactory)


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    category = CaseCategory.REQUEST
    first_response_minutes = 240
    resolution_minutes = 1080


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Case subject {n}")
    channel = InteractionChannel.EMAIL
    status = CaseStatus.OPEN


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory)
    kind = ConversationKind.EMAIL
    subject = factory.Sequence(lambda n: f"Thread {n}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = InteractionChannel.PHONE
    direction = Direction.INBOUND
    kind = "call"
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Sequence(lambda n: f"Contact {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Shop {n}")
    key = factory.Sequence(lambda n: f"site-key-{n:06d}")
    allowed_origins = "http://127.0.0.1\nhttp://localhost"
