"""Merging two customers: every related row moves, survivorship and overrides, the tombstone, refusals."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import (
    Attachment,
    CallbackRequest,
    CallSession,
    ChatMessage,
    FollowUp,
    Interaction,
    Letter,
    SatisfactionSurvey,
    VisitorLink,
    WebEvent,
)
from channels.selectors import interaction_timeline
from crm.errors import ApplicationError
from customers.choices import ContactKind, Stage
from customers.models import (
    Consent,
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    DuplicatePair,
    Invoice,
    Order,
    OrderLine,
    PostalAddress,
    StageChange,
)
from customers.services.merge import customer_foreign_keys, customer_merge, customer_merge_preview, is_history
from customers.services.records import customer_change_stage, customer_update
from tests.channels_factories import CaseFactory, ConversationFactory, InteractionFactory, SiteFactory
from tests.customers_factories import (
    AddressFactory,
    ConsentFactory,
    ContractFactory,
    CustomerFactory,
    EmailFactory,
    ExternalIdFactory,
    InvoiceFactory,
    MobileFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def _stage_change(customer):
    return StageChange.objects.create(customer=customer, stage=Stage.LEAD)


def _order_line(customer):
    return OrderLineFactory(order=OrderFactory(customer=customer))


def _invoice(customer):
    return InvoiceFactory(customer=customer, order=OrderFactory(customer=customer),
                          contract=ContractFactory(customer=customer))  # fmt: skip


def _case(customer):
    return CaseFactory(customer=customer)


def _interaction(customer):
    case = _case(customer)
    return InteractionFactory(
        customer=customer, case=case, conversation=ConversationFactory(customer=customer, case=case)
    )


def _chat_message(customer):
    return ChatMessage.objects.create(customer=customer, conversation=ConversationFactory(customer=customer),
                                      author="visitor", body="Bonjour")  # fmt: skip


def _attachment(customer):
    return Attachment.objects.create(
        customer=customer,
        interaction=_interaction(customer),
        filename="a.pdf",
        content_type="application/pdf",
        size=3,
        sha256="0" * 64,
        file="attachments/a",
    )


def _follow_up(customer):
    interaction = _interaction(customer)
    return FollowUp.objects.create(customer=customer, title="Rappeler", due_at=timezone.now(), case=interaction.case,
                                   interaction=interaction)  # fmt: skip


def _survey(customer):
    return SatisfactionSurvey.objects.create(customer=customer, case=_case(customer), send_after=timezone.now(),
                                             nonce="n" * 32)  # fmt: skip


def _web_event(customer):
    return WebEvent.objects.create(site=SiteFactory(), visitor_id="v-1", session_id="s-1", customer=customer,
                                   event_type="page_view", occurred_at=timezone.now())  # fmt: skip


def _callback(customer):
    now = timezone.now()
    return CallbackRequest.objects.create(
        customer=customer,
        phone="+33612345678",
        reason="Facture",
        preferred_from=now,
        preferred_to=now + datetime.timedelta(hours=1),
    )


# One way to create a row pointing at a customer, per customer-keyed table. A model added with a
# foreign key to Customer and no entry here fails test_it_moves_a_row_of_every_customer_keyed_table:
# add a builder, and the merge is then proven to handle it.
BUILDERS = {
    "customers.CustomerExternalId.customer": lambda c: ExternalIdFactory(customer=c),
    "customers.StageChange.customer": _stage_change,
    "customers.Order.customer": lambda c: OrderFactory(customer=c),
    "customers.OrderLine.customer": _order_line,
    "customers.Contract.customer": lambda c: ContractFactory(customer=c),
    "customers.Invoice.customer": _invoice,
    "customers.ContactPoint.customer": lambda c: EmailFactory(customer=c),
    "customers.PostalAddress.customer": lambda c: AddressFactory(customer=c),
    "customers.Consent.customer": lambda c: ConsentFactory(customer=c),
    "channels.Case.customer": _case,
    "channels.Conversation.customer": lambda c: ConversationFactory(customer=c, case=_case(c)),
    "channels.Interaction.customer": _interaction,
    "channels.ChatMessage.customer": _chat_message,
    "channels.Attachment.customer": _attachment,
    "channels.FollowUp.customer": _follow_up,
    "channels.SatisfactionSurvey.customer": _survey,
    "channels.Letter.customer": lambda c: Letter.objects.create(customer=c, body="Madame,", address_lines=["X"]),
    "channels.CallSession.customer": lambda c: CallSession.objects.create(
        customer=c, call_id="c-1", caller_number="0612345678"
    ),
    "channels.CallbackRequest.customer": _callback,
    "channels.WebEvent.customer": _web_event,
    "channels.VisitorLink.customer": lambda c: VisitorLink.objects.create(
        customer=c, site=SiteFactory(), visitor_id="v-1", via="login"
    ),
}


def _segment_member(customer):
    from campaigns.models import Segment, SegmentMember

    return SegmentMember.objects.create(segment=Segment.objects.create(name="Fidèles"), customer=customer)


def _membership_change(customer):
    from campaigns.models import Segment, SegmentMembershipChange

    segment = Segment.objects.create(name="Entrées")
    return SegmentMembershipChange.objects.create(segment=segment, customer=customer, change="entered")


def _message(customer):
    from campaigns.models import Campaign, CampaignStep, Message, Template

    template = Template.objects.create(name=f"Bienvenue {Template.objects.count()}", channel="email")
    campaign = Campaign.objects.create(name="Rentrée")
    step = CampaignStep.objects.create(campaign=campaign, channel="email", template=template)
    return Message.objects.create(customer=customer, campaign=campaign, step=step, channel="email")


def _tracking_event(customer):
    from campaigns.models import TrackingEvent

    message = _message(customer)
    return TrackingEvent.objects.create(
        customer=customer, message=message, campaign_id=message.campaign_id, kind="open"
    )


def _score(customer, **fields):
    from analytics.models import CustomerScore

    return CustomerScore.objects.create(customer=customer, computed_at=timezone.now(), **fields)


def _score_month(customer, month=datetime.date(2026, 11, 1), **fields):
    from analytics.models import CustomerScoreMonth

    return CustomerScoreMonth.objects.create(customer=customer, month=month, computed_at=timezone.now(), **fields)


def _offer_shown(customer):
    from analytics.models import OfferImpression

    return OfferImpression.objects.create(customer=customer, product=ProductFactory(), placement="agent")


BUILDERS.update({
    "analytics.CustomerScore.customer": _score,
    "analytics.CustomerScoreMonth.customer": _score_month,
    "analytics.OfferImpression.customer": _offer_shown,
    "campaigns.SegmentMember.customer": _segment_member,
    "campaigns.SegmentMembershipChange.customer": _membership_change,
    "campaigns.Message.customer": _message,
    "campaigns.TrackingEvent.customer": _tracking_event,
})  # fmt: skip
# Relations with their own rule, asserted by their own tests below.
NOT_REPOINTED = {
    "customers.Customer.merged_into",  # earlier tombstones now point at the survivor
    "customers.DuplicatePair.customer_low",  # pairs become "merged"
    "customers.DuplicatePair.customer_high",
}


def _key(model, field):
    return f"{model._meta.label}.{field.name}"


def test_it_moves_a_row_of_every_customer_keyed_table(supervisor):
    relations = [(m, f) for m, f in customer_foreign_keys() if not is_history(m)]
    unknown = sorted(_key(m, f) for m, f in relations if _key(m, f) not in BUILDERS and _key(m, f) not in NOT_REPOINTED)
    assert not unknown, f"Add a builder to BUILDERS for these customer-keyed tables so the merge is tested: {unknown}"
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    for key in BUILDERS:
        BUILDERS[key](duplicate)

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    for model, field in relations:
        if _key(model, field) in NOT_REPOINTED:
            continue
        left = model._default_manager.filter(**{field.name: duplicate}).count()
        moved = model._default_manager.filter(**{field.name: survivor}).count()
        assert left == 0, f"{_key(model, field)}: {left} rows still point at the duplicate"
        assert moved >= 1, f"{_key(model, field)}: nothing moved to the survivor"


def test_it_keeps_order_lines_and_invoices_with_their_order(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    line = _order_line(duplicate)
    invoice = InvoiceFactory(customer=duplicate, order=line.order)

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    line.refresh_from_db()
    invoice.refresh_from_db()
    assert (line.customer_id, line.order.customer_id) == (survivor.pk, survivor.pk)
    assert (invoice.customer_id, invoice.order_id) == (survivor.pk, line.order_id)
    assert list(survivor.orders.all()) == [line.order]


def test_it_keeps_every_contact_point_once_and_the_survivors_primaries(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=survivor, value="marie@example.fr", is_verified=False)
    EmailFactory(customer=duplicate, value="marie@example.fr", is_verified=True)
    EmailFactory(customer=duplicate, value="marie.pro@example.fr", is_primary=False)
    MobileFactory(customer=duplicate, value="+33612345678")

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    points = {(cp.kind, cp.value): cp for cp in ContactPoint.objects.filter(customer=survivor)}
    assert set(points) == {
        (ContactKind.EMAIL, "marie@example.fr"),
        (ContactKind.EMAIL, "marie.pro@example.fr"),
        (ContactKind.MOBILE, "+33612345678"),
    }
    assert points[(ContactKind.EMAIL, "marie@example.fr")].is_verified
    assert points[(ContactKind.EMAIL, "marie@example.fr")].is_primary
    assert points[(ContactKind.MOBILE, "+33612345678")].is_primary
    assert not ContactPoint.objects.filter(customer=duplicate).exists()


def test_it_keeps_every_address_with_one_primary(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    AddressFactory(customer=duplicate, postcode="69003", line6="69003 LYON", city="Lyon")
    AddressFactory(customer=survivor, postcode="75002")  # the more recent primary

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    addresses = PostalAddress.objects.filter(customer=survivor)
    assert sorted(a.postcode for a in addresses) == ["69003", "75002"]
    assert [a.postcode for a in addresses if a.is_primary] == ["75002"]


def test_it_combines_the_consent_ledgers_and_the_ledger_still_refuses_updates(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    ConsentFactory(customer=survivor, channel="sms")
    withdrawn = ConsentFactory(customer=duplicate, channel="email", status="withdrawn")

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert sorted(Consent.objects.filter(customer=survivor).values_list("channel", flat=True)) == ["email", "sms"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=withdrawn.pk).update(status="granted")
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=withdrawn.pk).update(customer=duplicate)
    assert Consent.objects.get(pk=withdrawn.pk).status == "withdrawn"


def test_it_leaves_a_tombstone_and_records_who_merged(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    earlier = CustomerFactory(merged_into=duplicate, merged_at=timezone.now())

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor, source="api")

    duplicate.refresh_from_db()
    earlier.refresh_from_db()
    assert duplicate.merged_into == survivor and duplicate.merged_at is not None
    assert not duplicate.is_live and survivor.is_live
    assert earlier.merged_into == survivor
    event = apps.get_model("customers", "CustomerEvent").objects.filter(pgh_obj=duplicate).latest("pgh_id")
    assert event.merged_into_id == survivor.pk
    assert event.pgh_context.metadata["user"] == supervisor.pk
    assert event.pgh_context.metadata["channel"] == "merge"
    assert event.pgh_context.metadata["via"] == "api"


def test_it_marks_the_duplicate_pairs_of_the_duplicate_merged(supervisor):
    survivor, duplicate, other = CustomerFactory(), CustomerFactory(), CustomerFactory()
    pair = DuplicatePair.objects.create(customer_low=survivor, customer_high=duplicate, score=0.9)
    other_pair = DuplicatePair.objects.create(customer_low=duplicate, customer_high=other, score=0.7)

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    for row in (pair, other_pair):
        row.refresh_from_db()
        assert row.status == DuplicatePair.Status.MERGED
        assert row.reviewed_by == supervisor


def test_it_keeps_the_most_recent_values_the_more_advanced_stage_and_both_tags(supervisor):
    survivor = CustomerFactory(given_name="Marie", family_name="Martin", birth_date=None, tags=["vip"],
                               attributes={"size": "M", "club": "gold"})  # fmt: skip
    duplicate = CustomerFactory(given_name="Marie", family_name="Martin", birth_date=datetime.date(1980, 1, 2),
                                tags=["newsletter"], attributes={"size": "L"})  # fmt: skip
    customer_change_stage(customer=duplicate, stage=Stage.CUSTOMER)
    duplicate = customer_update(customer=duplicate, family_name="Martin-Durand")

    preview = {c.name: c for c in customer_merge_preview(survivor=survivor, duplicate=duplicate)}
    merged = customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert preview["family_name"].chosen == "duplicate" and preview["family_name"].chosen_value == "Martin-Durand"
    assert preview["birth_date"].chosen_value == "1980-01-02"
    assert preview["stage"].chosen == "duplicate"
    assert (merged.family_name, merged.birth_date, merged.stage) == ("Martin-Durand", datetime.date(1980, 1, 2),
                                                                     Stage.CUSTOMER)  # fmt: skip
    assert merged.tags == ["newsletter", "vip"]
    assert merged.attributes == {"size": "L", "club": "gold"}
    assert StageChange.objects.filter(customer=survivor, stage=Stage.CUSTOMER, source="merge").exists()


def test_it_prefers_a_verified_primary_email(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=survivor, value="old@example.fr")
    EmailFactory(customer=duplicate, value="checked@example.fr", is_verified=True)

    preview = {c.name: c for c in customer_merge_preview(survivor=survivor, duplicate=duplicate)}
    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert preview["primary_email"].chosen == "duplicate"
    assert ContactPoint.objects.get(customer=survivor, is_primary=True, kind="email").value == "checked@example.fr"


def test_it_follows_the_agents_overrides(supervisor):
    survivor = CustomerFactory(given_name="Marie", family_name="Martin")
    duplicate = CustomerFactory(given_name="Marie", family_name="Martin")
    duplicate = customer_update(customer=duplicate, family_name="Martinez")
    EmailFactory(customer=survivor, value="old@example.fr")
    EmailFactory(customer=duplicate, value="checked@example.fr", is_verified=True)

    merged = customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor,
                            overrides={"family_name": "survivor", "primary_email": "survivor"})  # fmt: skip

    assert merged.family_name == "Martin"
    assert ContactPoint.objects.get(customer=survivor, is_primary=True, kind="email").value == "old@example.fr"


def _snapshot(*customers):
    return {
        "customers": list(Customer.objects.filter(pk__in=[c.pk for c in customers]).order_by("pk").values()),
        "points": list(ContactPoint.objects.order_by("pk").values_list("pk", "customer_id", "is_primary")),
        "consents": list(Consent.objects.order_by("pk").values_list("pk", "customer_id")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "customer_id")),
        "pairs": list(DuplicatePair.objects.order_by("pk").values_list("pk", "status")),
    }


def test_it_refuses_a_merge_into_itself_and_changes_nothing(supervisor):
    marie = CustomerFactory()
    EmailFactory(customer=marie)
    before = _snapshot(marie)

    with pytest.raises(ApplicationError) as error:
        customer_merge(survivor=marie, duplicate=marie, acting_user=supervisor)

    assert error.value.code == "merge_into_itself"
    assert _snapshot(marie) == before


@pytest.mark.parametrize("side", ["survivor", "duplicate"])
def test_it_refuses_a_merge_with_an_already_merged_customer_and_changes_nothing(supervisor, side):
    survivor, duplicate, elsewhere = CustomerFactory(), CustomerFactory(), CustomerFactory()
    gone = survivor if side == "survivor" else duplicate
    Customer.objects.filter(pk=gone.pk).update(merged_into=elsewhere, merged_at=timezone.now())
    OrderFactory(customer=duplicate)
    ConsentFactory(customer=duplicate)
    before = _snapshot(survivor, duplicate, elsewhere)

    with pytest.raises(ApplicationError) as error:
        customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert error.value.code == "already_merged"
    assert _snapshot(survivor, duplicate, elsewhere) == before


def test_it_refuses_an_anonymised_customer(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory(anonymised_at=timezone.now())

    with pytest.raises(ApplicationError) as error:
        customer_merge_preview(survivor=survivor, duplicate=duplicate)

    assert error.value.code == "anonymised"


def test_it_refuses_an_unknown_override_and_changes_nothing(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=duplicate)
    before = _snapshot(survivor, duplicate)

    with pytest.raises(ApplicationError) as error:
        customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor, overrides={"tags": "survivor"})

    assert error.value.field == "tags"
    assert _snapshot(survivor, duplicate) == before


def test_it_refuses_two_orders_with_the_same_external_id_and_changes_nothing(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=survivor, external_id="ERP-1")
    OrderFactory(customer=duplicate, external_id="ERP-1")
    ContractFactory(customer=duplicate)
    before = _snapshot(survivor, duplicate)

    with pytest.raises(ApplicationError) as error:
        customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert error.value.code == "merge_conflict"
    assert _snapshot(survivor, duplicate) == before
    assert Contract.objects.get().customer == duplicate
    assert CustomerExternalId.objects.count() == 0
    assert Invoice.objects.count() == OrderLine.objects.count() == 0


def test_the_duplicates_timeline_joins_the_survivors_with_its_cases_and_threads(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    mine = InteractionFactory(customer=survivor, occurred_at=timezone.now() - datetime.timedelta(days=1))
    theirs = _interaction(duplicate)

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert [e.pk for e in interaction_timeline(customer=survivor).entries] == [theirs.pk, mine.pk]
    theirs = Interaction.objects.select_related("case", "conversation").get(pk=theirs.pk)
    assert theirs.case.customer_id == theirs.conversation.customer_id == survivor.pk


def test_a_browser_linked_to_both_customers_is_kept_once(supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    site = SiteFactory()
    VisitorLink.objects.create(customer=survivor, site=site, visitor_id="same-browser", via="login")
    VisitorLink.objects.create(customer=duplicate, site=site, visitor_id="same-browser", via="form_submit")
    VisitorLink.objects.create(customer=duplicate, site=site, visitor_id="phone-browser", via="login")

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    links = VisitorLink.objects.filter(site=site).order_by("visitor_id")
    assert [(link.customer_id, link.visitor_id, link.via) for link in links] == [
        (survivor.pk, "phone-browser", "login"),
        (survivor.pk, "same-browser", "login"),
    ]


def test_scores_keep_one_row_per_customer_and_month_the_survivors_winning(supervisor):
    from analytics.models import CustomerScore, CustomerScoreMonth

    survivor, duplicate = CustomerFactory(), CustomerFactory()
    _score(survivor, frequency=7)
    _score(duplicate, frequency=2)
    _score_month(survivor, month=datetime.date(2026, 11, 1), frequency=7)
    _score_month(duplicate, month=datetime.date(2026, 11, 1), frequency=2)
    _score_month(duplicate, month=datetime.date(2026, 10, 1), frequency=1)

    customer_merge(survivor=survivor, duplicate=duplicate, acting_user=supervisor)

    assert list(CustomerScore.objects.values_list("customer_id", "frequency")) == [(survivor.pk, 7)]
    months = CustomerScoreMonth.objects.order_by("month").values_list("customer_id", "month", "frequency")
    assert list(months) == [(survivor.pk, datetime.date(2026, 10, 1), 1), (survivor.pk, datetime.date(2026, 11, 1), 7)]
