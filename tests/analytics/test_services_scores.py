"""The nightly scores on a small known history: RFM cells, model columns, responsiveness, history."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from analytics.models import CustomerScore, CustomerScoreMonth, RfmCell, ScoreRun
from analytics.services.scores import scores_compute
from campaigns.models import Campaign, CampaignStep, Message, Template
from channels.models import Interaction
from customers.models import Customer
from tests.analytics.support import AS_OF, at, order, ten_buyers

pytestmark = pytest.mark.django_db


def _scores() -> dict[int, CustomerScore]:
    return {score.customer_id: score for score in CustomerScore.objects.all()}


def test_it_scores_the_ten_buyers_into_their_hand_checked_rfm_cells():
    buyers = ten_buyers()
    prospect = Customer.objects.create(given_name="Sans", family_name="Achat")

    result = scores_compute(as_of=AS_OF)

    scores = _scores()
    assert result.customers == 11 and result.buyers == 10
    expected_cells = ["hibernating"] * 4 + ["need_attention"] * 2 + ["loyal"] * 2 + ["champions"] * 2
    assert [scores[c.pk].rfm_cell for c in buyers] == expected_cells
    assert [(scores[c.pk].r_score, scores[c.pk].f_score, scores[c.pk].m_score) for c in buyers] == [
        ((k + 1) // 2,) * 3 for k in range(1, 11)
    ]
    tenth = scores[buyers[9].pk]
    assert (tenth.frequency, tenth.monetary, tenth.recency_days) == (10, Decimal("500.00"), 10)
    assert tenth.preferred_purchase_channel == "store"
    assert scores[buyers[0].pk].preferred_purchase_channel == "web"
    assert scores[prospect.pk].rfm_cell == RfmCell.NO_PURCHASE
    assert scores[prospect.pk].frequency == 0 and scores[prospect.pk].p_alive is None


def test_the_model_columns_are_consistent_on_the_small_history():
    buyers = ten_buyers()
    run = scores_compute(as_of=AS_OF).run
    assert run.status == ScoreRun.Status.DONE
    assert set(run.bgnbd) >= {"r", "alpha", "a", "b"}
    scores = _scores()
    for customer in buyers:
        score = scores[customer.pk]
        assert 0.0 <= score.p_alive <= 1.0
        assert score.churn_risk == pytest.approx(1.0 - score.p_alive)
        assert 0.0 <= score.expected_purchases_90 <= score.expected_purchases_365
        assert score.expected_order_value > 0 and score.clv_12m >= 0
    # The regular, recent buyer is worth more over the next year than the one who bought twice and has
    # been silent for 90 days (a one-off buyer is "alive" for BG/NBD: nothing says they dropped out).
    regular, silent = scores[buyers[9].pk], scores[buyers[1].pk]
    assert regular.p_alive > 0.9 > 0.5 > silent.p_alive
    assert regular.expected_purchases_365 > 3 * silent.expected_purchases_365
    assert regular.clv_12m > silent.clv_12m
    assert scores[buyers[0].pk].p_alive == 1.0
    assert scores[buyers[9].pk].value_band == "high"


def test_a_customer_merged_or_anonymised_since_keeps_no_score():
    buyers = ten_buyers()
    scores_compute(as_of=AS_OF)
    Customer.objects.filter(pk=buyers[0].pk).update(anonymised_at=at(0))
    scores_compute(as_of=AS_OF)
    assert not CustomerScore.objects.filter(customer_id=buyers[0].pk).exists()
    assert CustomerScore.objects.count() == 9


def _campaign(channel: str) -> Campaign:
    template, _ = Template.objects.get_or_create(name=f"T {channel}", channel=channel, language="fr",
                                                 defaults={"body": "Bonjour", "subject": "Bonjour"})  # fmt: skip
    campaign = Campaign.objects.create(name=f"C {channel}", attribution_days=7)
    CampaignStep.objects.create(campaign=campaign, channel=channel, template=template)
    return campaign


def _sent(customer, campaign, days_before: int, **fields) -> Message:
    return Message.objects.create(customer=customer, campaign=campaign, step=campaign.steps.get(),
                                  channel=campaign.steps.get().channel, status="sent", sent_at=at(days_before),
                                  **fields)  # fmt: skip


def test_responsiveness_counts_opens_replies_and_purchases_per_channel(settings):
    customer = Customer.objects.create(given_name="Réactive", family_name="Cliente")
    email_a, email_b, email_c, sms = _campaign("email"), _campaign("email"), _campaign("email"), _campaign("sms")
    _sent(customer, email_a, 40, opened_at=at(39))
    _sent(customer, email_b, 30)  # no answer at all
    _sent(customer, email_c, 20)  # followed by a purchase within the campaign's 7 days
    order(customer, 18, "30.00")
    _sent(customer, sms, 10)
    Interaction.objects.create(customer=customer, channel="sms", direction="inbound", kind="sms",
                               occurred_at=at(9), summary="Oui merci")  # fmt: skip
    old = _campaign("email")
    _sent(customer, old, 400, opened_at=at(399))  # older than a year: not counted

    scores_compute(as_of=AS_OF)

    responsiveness = CustomerScore.objects.get(customer=customer).responsiveness
    assert responsiveness["email"] == {"sent": 3, "responded": 2, "share": 0.667}
    assert responsiveness["sms"] == {"sent": 1, "responded": 1, "share": 1.0}
    assert "postal_mail" not in responsiveness


def test_each_month_keeps_its_snapshot_and_a_second_run_in_a_month_replaces_it():
    buyers = ten_buyers()
    scores_compute(as_of=AS_OF - datetime.timedelta(days=40))
    scores_compute(as_of=AS_OF)
    scores_compute(as_of=AS_OF)
    months = CustomerScoreMonth.objects.filter(customer=buyers[9]).order_by("month")
    assert [m.month for m in months] == [datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)]
    # On 2026-05-21 the tenth buyer had bought 8 times (two of their orders came later).
    assert [m.frequency for m in months] == [8, 10]
    assert CustomerScore.objects.count() == 10
