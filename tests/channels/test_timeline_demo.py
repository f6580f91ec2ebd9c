"""seed_demo fills the channels: a timeline on every channel, cases in queues with SLAs, config, once."""

from django.core.management import call_command

from channels.choices import InteractionChannel
from channels.demo_web import DEMO_SITE_KEY
from channels.models import AgentProfile, Case, Interaction, Queue, ResponseTemplate, Site, SlaPolicy
from channels.services.interactions import html_sanitise


def test_it_seeds_the_channels_once(db):
    call_command("seed_demo", "--customers", "40", verbosity=0)
    interactions, cases = Interaction.objects.count(), Case.objects.count()
    assert set(Interaction.objects.values_list("channel", flat=True)) >= set(InteractionChannel.values) - {"social"}
    assert interactions >= 80 and cases >= 2
    assert all(case.resolution_due_at and case.queue_id for case in Case.objects.all())
    assert Queue.objects.get(is_default=True).memberships.count() >= 1
    assert SlaPolicy.objects.values("category").distinct().count() == 4
    assert AgentProfile.objects.exclude(extension="").exists()
    assert {(t.channel, t.language) for t in ResponseTemplate.objects.all()} >= {
        (c, lang) for c in ("email", "sms", "letter") for lang in ("fr", "en")
    }
    assert Site.objects.filter(key=DEMO_SITE_KEY).exists()
    phone = Interaction.objects.filter(channel="phone").first()
    assert phone.cost > 0 and phone.body == html_sanitise(phone.body)

    call_command("seed_demo", "--customers", "40", verbosity=0)
    assert (Interaction.objects.count(), Case.objects.count()) == (interactions, cases)
