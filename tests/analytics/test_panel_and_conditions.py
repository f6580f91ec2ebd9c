"""Scores where people use them: conditions of the segment builder and the 360 page's panel."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics.services.scores import scores_compute
from campaigns.segments.compiler import segment_compile
from campaigns.segments.registry import RuleError, condition_get
from customers.models import Customer
from tests.analytics.support import AS_OF, ten_buyers

pytestmark = pytest.mark.django_db


def _matching(rules) -> set[int]:
    from django.db import connection

    sql, params = segment_compile(rules, now=timezone.now()).select_ids()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def test_score_conditions_are_registered_in_the_segment_builder():
    for name in ["score.rfm_cell", "score.clv_12m", "score.churn_risk", "score.churn_band", "score.p_alive",
                 "score.responsiveness", "score.value_band"]:  # fmt: skip
        condition = condition_get(name)
        assert condition is not None and condition.is_available, name


def test_a_segment_of_champions_and_of_high_value_selects_the_scored_customers():
    buyers = ten_buyers()
    Customer.objects.create(given_name="Sans", family_name="Score")
    scores_compute(as_of=AS_OF)

    champions = _matching({"all": [{"field": "score.rfm_cell", "op": "eq", "value": "champions"}]})
    assert champions == {buyers[8].pk, buyers[9].pk}
    sleeping = _matching({"all": [{"field": "score.rfm_cell", "op": "in", "value": ["hibernating", "no_purchase"]}]})
    assert len(sleeping) == 5
    risky = _matching({"all": [{"field": "score.churn_risk", "op": "gte", "value": 50}]})
    assert buyers[9].pk not in risky and buyers[1].pk in risky


def test_the_responsiveness_condition_needs_its_channel():
    with pytest.raises(RuleError):
        segment_compile({"all": [{"field": "score.responsiveness", "op": "gte", "value": 20}]}, now=timezone.now())
    with pytest.raises(RuleError):
        segment_compile({"all": [{"field": "score.rfm_cell", "op": "eq", "value": "royalty"}]}, now=timezone.now())


def test_the_360_page_shows_the_badges_and_the_value_chart(client, agent):
    buyers = ten_buyers()
    scores_compute(as_of=AS_OF.replace(month=5))
    scores_compute(as_of=AS_OF)
    client.force_login(agent)
    body = client.get(f"/customers/{buyers[9].pk}/").content.decode()
    assert 'data-testid="panel-scores"' in body
    assert 'data-testid="score-rfm-cell"' in body and "Champions" in body
    assert 'data-testid="score-chart"' in body and "<polyline" in body
    assert "store" in body  # preferred purchase channel


def test_the_360_page_of_a_customer_not_scored_yet_says_so(client, agent):
    customer = Customer.objects.create(given_name="Nouveau", family_name="Client")
    client.force_login(agent)
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="panel-empty-scores"' in body
    assert "Suggest to this customer" in body
