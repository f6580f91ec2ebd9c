"""Co-purchase similarities, next best offers, the exploration share and the fatigue rule."""

from __future__ import annotations

import datetime
import math
import random

import pytest

from analytics.models import OfferImpression, ProductSimilarity
from analytics.selectors import next_best_offers
from analytics.services.recommendations import offers_clicks_record, offers_log, similarities_compute
from channels.models import WebEvent
from customers.models import Customer
from tests.analytics.support import catalogue, order
from tests.channels_factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """Books go with music (three people bought both), games with tea once; a reader bought only Roman."""
    p = catalogue()
    people = Customer.objects.bulk_create([Customer(given_name=f"B{i}", family_name="Shop") for i in range(6)])
    for person in people[:3]:
        order(person, 30, "40.00", products=[p["BOOK-1"], p["MUS-1"]])
    order(people[3], 20, "60.00", products=[p["BOOK-1"], p["MUS-2"]])
    order(people[4], 10, "120.00", products=[p["GAME-1"], p["TEA-1"]])
    order(people[5], 10, "10.00", products=[p["BOOK-1"]])
    order(people[5], 5, "0", products=[p["TEA-2"]], status="cancelled")  # not a purchase
    similarities_compute()
    return p, people


def test_similarity_is_the_cosine_of_the_buyer_sets(shop):
    p, _people = shop
    pairs = {(s.product.sku, s.similar.sku): s for s in ProductSimilarity.objects.select_related("product", "similar")}
    # BOOK-1 has 5 buyers, MUS-1 3, all three of them also BOOK-1 buyers: 3 / sqrt(5 x 3).
    assert pairs[("BOOK-1", "MUS-1")].score == pytest.approx(3 / math.sqrt(15))
    assert pairs[("BOOK-1", "MUS-1")].co_buyers == 3 and pairs[("BOOK-1", "MUS-1")].rank == 1
    assert pairs[("BOOK-1", "MUS-2")].score == pytest.approx(1 / math.sqrt(5))
    assert pairs[("GAME-1", "TEA-1")].score == pytest.approx(1.0)
    assert ("BOOK-1", "TEA-2") not in pairs  # the cancelled order bought nothing
    assert ("BOOK-1", "GAME-1") not in pairs


def test_a_second_run_replaces_the_similarities(shop):
    before = ProductSimilarity.objects.count()
    assert similarities_compute() == before
    assert ProductSimilarity.objects.count() == before


def test_the_next_best_offers_are_what_buyers_of_their_products_bought_and_they_do_not_own(shop):
    _p, people = shop
    offers = next_best_offers(people[5].pk, n=2, share=0.0)
    assert [offer.sku for offer in offers] == ["MUS-1", "MUS-2"]
    assert not any(offer.is_exploration for offer in offers)
    # Someone who owns both books and music is offered nothing they own.
    owned = {"BOOK-1", "MUS-1"}
    assert not owned & {offer.sku for offer in next_best_offers(people[0].pk, n=3, share=0.0)}


def test_a_customer_without_purchases_gets_the_best_sellers():
    p = catalogue()
    people = Customer.objects.bulk_create([Customer(given_name=f"B{i}", family_name="Shop") for i in range(3)])
    for person in people[:2]:
        order(person, 3, "40.00", products=[p["BOOK-1"], p["MUS-1"]])
    similarities_compute()
    newcomer = Customer.objects.create(given_name="Nouvelle", family_name="Venue")
    assert {offer.sku for offer in next_best_offers(newcomer.pk, n=2, share=0.0)} == {"BOOK-1", "MUS-1"}


def test_exploration_slots_come_from_categories_never_bought(shop):
    _p, people = shop
    offers = next_best_offers(people[5].pk, n=3, share=1.0, rng=random.Random(1))
    assert len(offers) == 3 and all(offer.is_exploration for offer in offers)
    assert {offer.category for offer in offers} <= {"games", "tea"}


def test_the_exploration_share_over_many_draws_stays_within_its_binomial_bounds(shop):
    _p, people = shop
    rng = random.Random(20261203)
    # Two slots: the reader has two exploitation candidates and four to explore, so no slot is filled by
    # the other kind for want of candidates (that fallback would bias the share).
    draws, slots, explored = 600, 2, 0
    for _draw in range(draws):
        offers = next_best_offers(people[5].pk, n=slots, rng=rng)
        assert len(offers) == slots
        explored += sum(offer.is_exploration for offer in offers)
    n, share = draws * slots, 0.15
    # The only customer-visible promise: about 15 % of the slots explore. 4 standard deviations.
    bound = 4 * math.sqrt(n * share * (1 - share))
    assert abs(explored - n * share) <= bound, (explored, n * share, bound)
    assert 0 < explored < n


def test_an_offer_shown_three_times_without_a_click_is_rested_and_a_clicked_one_is_not(shop):
    p, people = shop
    reader = people[5]
    first = next_best_offers(reader.pk, n=1, share=0.0)
    assert first[0].sku == "MUS-1"
    for _shown in range(3):
        offers_log(customer_id=reader.pk, offers=first, placement="web")
    assert next_best_offers(reader.pk, n=1, share=0.0)[0].sku == "MUS-2"

    # A click on the product (a web event after the offer) closes the loop: MUS-1 is no longer rested.
    site = SiteFactory()
    shown_at = OfferImpression.objects.filter(customer=reader).latest("shown_at").shown_at
    WebEvent.objects.create(site=site, visitor_id="v1", session_id="s1", customer=reader, event_type="product_view",
                            occurred_at=shown_at + datetime.timedelta(minutes=5),
                            product_sku="MUS-1")  # fmt: skip
    assert offers_clicks_record() == 1  # the latest showing is credited, not all three
    assert OfferImpression.objects.filter(customer=reader, clicked_at__isnull=False).count() == 1
    assert offers_clicks_record() == 0  # a second run credits nothing more
    assert next_best_offers(reader.pk, n=1, share=0.0)[0].sku == "MUS-1"
