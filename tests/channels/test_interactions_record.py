"""The timeline's one writer: cost, sanitising, summary, hooks after commit, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from channels.models import ChannelCost
from channels.services.interactions import interaction_hook_register, interaction_record, text_summary
from crm.errors import ApplicationError
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_summary_keeps_paragraphs_apart_and_decodes_entities():
    assert text_summary("<p>Votre commande.</p><p>Livraison &amp; retour</p>") == "Votre commande. Livraison & retour"
    assert text_summary("ligne 1<br>ligne 2") == "ligne 1 ligne 2"


def test_a_long_summary_is_cut_on_a_word_boundary():
    summary = text_summary("mot " * 300, length=50)
    assert len(summary) <= 50 and summary.endswith("…") and not summary.endswith(" …")


def test_it_applies_the_channel_cost_and_sanitises_the_body():
    ChannelCost.objects.filter(channel="phone").update(amount=Decimal("7.50"))
    interaction = interaction_record(
        channel="phone", direction="inbound", kind="call", customer=CustomerFactory(),
        body_html='<p onclick="steal()">Bonjour</p><script>alert(1)</script>',
    )  # fmt: skip
    assert interaction.cost == Decimal("7.50")
    assert "script" not in interaction.body and "onclick" not in interaction.body
    assert interaction.summary == "Bonjour"


def test_an_unknown_channel_is_refused_and_nothing_is_written():
    with pytest.raises(ApplicationError) as raised:
        interaction_record(channel="pigeon", direction="inbound", kind="note", customer=CustomerFactory())
    assert raised.value.field == "channel"
    from channels.models import Interaction

    assert not Interaction.objects.exists()


def test_hooks_run_after_commit(django_capture_on_commit_callbacks):
    seen = []
    interaction_hook_register(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            interaction = interaction_record(channel="email", direction="inbound", kind="email",
                                             customer=CustomerFactory(), subject="Bonjour")  # fmt: skip
            assert seen == []
        assert seen == [interaction]
    finally:
        from channels.services import interactions

        interactions._hooks.remove(seen.append)
