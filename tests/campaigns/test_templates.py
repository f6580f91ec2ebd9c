"""Campaign templates: the sandbox refuses every escape, emails leave inlined with their headers."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from campaigns.models import Message
from campaigns.services.templates import (
    email_build,
    message_context,
    render_parts,
    sandbox_render,
    template_preview,
    template_save,
)
from crm.errors import ApplicationError
from tests.campaigns.outbox_support import campaign, email_template, open_policy
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}{% static 'x' %}",
        "{% load log %}",
        "{% include 'base.html' %}",
        "{% debug %}",
        "{% extends 'base.html' %}",
        "{% url 'home' %}",
        "{% csrf_token %}",
        "{{ customer.given_name|safe }}",
        "{% autoescape off %}x{% endautoescape %}",
        "{{ x|pprint }}",
        "{% lorem %}",
    ],
)
def test_it_refuses_each_escape_from_the_sandbox(source):
    with pytest.raises(ApplicationError) as error:
        sandbox_render(source, context={}, autoescape=True)
    assert error.value.code == "template_error"


def test_it_reaches_no_settings_no_model_instance_and_no_private_attribute():
    customer = CustomerFactory(given_name="Ana", family_name="Lopez")
    context = message_context(customer=customer)
    for source in ("{{ settings.SECRET_KEY }}", "{{ customer.pk }}", "{{ customer.contact_points }}",
                   "{{ customer.delete }}", "{{ request }}"):  # fmt: skip
        assert sandbox_render(source, context=context, autoescape=True) == ""
    with pytest.raises(ApplicationError):
        sandbox_render("{{ customer.__class__ }}", context=context, autoescape=True)
    assert sandbox_render("{{ customer.family_name|upper }}", context=context, autoescape=True) == "LOPEZ"
    # The values are read-only: a zero-argument method of a mapping cannot empty it.
    sandbox_render("{{ customer.clear }}{{ customer.popitem }}", context=context, autoescape=True)
    assert sandbox_render("{{ customer.given_name }}", context=context, autoescape=True) == "Ana"


def test_it_escapes_customer_values_in_html_and_falls_back_on_missing_values():
    customer = CustomerFactory(given_name="<script>x</script>", family_name="")
    context = message_context(customer=customer)
    html = sandbox_render("<p>{{ customer.given_name }} {{ customer.family_name|default:'client' }}</p>",
                          context=context, autoescape=True)  # fmt: skip
    assert "&lt;script&gt;" in html and "<script>" not in html and "client" in html


def test_it_refuses_to_save_a_template_with_a_forbidden_tag(marketer):
    with pytest.raises(ApplicationError) as error:
        template_save(acting_user=marketer, name="X", channel="email", subject="Hi", html="{% debug %}")
    assert error.value.field == "html"


def test_it_builds_an_email_inlined_with_plain_text_and_rfc_8058_headers(marketer):
    open_policy()
    customer = CustomerFactory(family_name="Martin", title="ms")
    EmailFactory(customer=customer, value="martin@example.fr")
    template = email_template()
    from tests.campaigns.outbox_support import audience

    segment, _ = audience(1)
    camp = campaign(segment, template, user=marketer)
    message = Message.objects.create(customer=customer, campaign=camp, step=camp.send_step, channel="email",
                                     to_address="martin@example.fr", message_id="<rl.1@relais.test>")  # fmt: skip
    parts = render_parts(template, context=message_context(customer=customer, message=message))
    built = email_build(message=message, parts=parts, to=message.to_address)
    email = message_from_bytes(built.message().as_bytes(), policy=policy.default)
    assert email["Message-ID"] == "<rl.1@relais.test>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/campaigns/t/u/" in email["List-Unsubscribe"] and "mailto:" in email["List-Unsubscribe"]
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Martin" in text and "Voir l'offre (https://shop.example.fr/offre?c=1)" in text
    assert 'style="color: #123456;"' in html  # the <style> rule inlined
    assert "<style" not in html
    assert "/campaigns/t/c/" in html and "/campaigns/t/o/" in html  # click tracking and open pixel
    assert "https://shop.example.fr/offre" not in html.replace("&amp;", "&").split("/campaigns/t/c/")[0]


def test_it_previews_on_a_real_customer_in_their_language(marketer):
    customer = CustomerFactory(given_name="John", language="en")
    template = email_template(subject="Bonjour {{ customer.given_name }}")
    email_template(subject="Hello {{ customer.given_name }}", language="en")
    from campaigns.services.templates import template_for_language

    parts = template_preview(template=template_for_language(template, customer.language), customer=customer)
    assert parts["subject"] == "Hello John"
